// ISC license.
#include "queue/client.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "conf/paths.h"
#include "queue/envelope.h"
#include "sys/exitcodes.h"
#include "sys/fs.h"

namespace qf::queue {

QueueClient::~QueueClient() {
  if (pid_ > 0) {
    msg_.reset();
    env_.reset();
    int st;
    while (::waitpid(pid_, &st, 0) < 0 && errno == EINTR) {
    }
  }
}

bool QueueClient::open(char const* program, bool ignore_env) {
  std::string prog;
  if (program)
    prog = program;
  else if (char const* q = ignore_env ? nullptr : getenv("QMAILQUEUE"); q && *q)
    prog = q;
  else
    prog = conf::program("qmail-queue");
  int m[2], e[2];
  if (::pipe2(m, O_CLOEXEC) < 0) return false;
  if (::pipe2(e, O_CLOEXEC) < 0) {
    ::close(m[0]);
    ::close(m[1]);
    return false;
  }
  pid_ = ::fork();
  if (pid_ < 0) {
    for (int fd : {m[0], m[1], e[0], e[1]}) ::close(fd);
    return false;
  }
  if (pid_ == 0) {
    if (::dup2(m[0], 0) < 0 || ::dup2(e[0], 1) < 0) _exit(qq::write);
    ::signal(SIGPIPE, SIG_DFL);
    char* argv[] = {const_cast<char*>(prog.c_str()), nullptr};
    ::execv(prog.c_str(), argv);
    _exit(120);
  }
  ::close(m[0]);
  ::close(e[0]);
  msg_.reset(m[1]);
  env_.reset(e[1]);
  buf_.clear();
  write_failed_ = false;
  return true;
}

void QueueClient::flush() {
  if (!buf_.empty() && !write_failed_ && !write_all(msg_.get(), buf_)) write_failed_ = true;
  buf_.clear();
}

void QueueClient::put(std::string_view s) {
  if (write_failed_) return;
  if (buf_.size() + s.size() > (1 << 16)) {
    flush();
    if (s.size() > (1 << 16)) {
      if (!write_failed_ && !write_all(msg_.get(), s)) write_failed_ = true;
      return;
    }
  }
  buf_.append(s);
}

void QueueClient::put_fd(int fd) {
  char b[1 << 16];
  for (;;) {
    ssize_t r = ::read(fd, b, sizeof b);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) {
      if (r < 0) write_failed_ = true;
      return;
    }
    put(std::string_view(b, size_t(r)));
  }
}

int QueueClient::close(std::string_view sender, std::vector<std::string> const& rcpts) {
  // SIGPIPE would kill us if qmail-queue exits early: report its code instead.
  struct sigaction ign, old;
  ign.sa_handler = SIG_IGN;
  sigemptyset(&ign.sa_mask);
  ign.sa_flags = 0;
  ::sigaction(SIGPIPE, &ign, &old);
  flush();
  msg_.reset();
  // The envelope is what makes qmail-queue commit: a message that did not get
  // through whole (a write error, or put_fd could not read its source) gets
  // none, so qmail-queue exits 54 and queues nothing.
  bool env_ok = false;
  if (!write_failed_) {
    std::string env;
    put_record(&env, 'F', sender);
    for (auto const& r : rcpts) put_record(&env, 'T', r);
    env.push_back('\0');
    env_ok = write_all(env_.get(), env);
  }
  env_.reset();
  ::sigaction(SIGPIPE, &old, nullptr);
  int st;
  pid_t p;
  while ((p = ::waitpid(pid_, &st, 0)) < 0 && errno == EINTR) {
  }
  pid_ = -1;
  if (p < 0) return qq::bug;
  if (!WIFEXITED(st)) return qq::bug;
  int code = WEXITSTATUS(st);
  if (code == 0 && (write_failed_ || !env_ok)) return qq::read;
  return code;
}

}  // namespace qf::queue
