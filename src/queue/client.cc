// ISC license.
#include "queue/client.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>

#include "conf/paths.h"
#include "queue/envelope.h"
#include "queue/queued.h"
#include "queue/select.h"
#include "queue/wire.h"
#include "sys/exitcodes.h"
#include "sys/fs.h"
#include "sys/timefmt.h"

namespace qf::queue {

namespace {

constexpr size_t kHead = 1 << 16;

// SIGPIPE ignored for the life of the object: a vanished peer is an error code.
struct IgnorePipe {
  struct sigaction old;
  IgnorePipe() {
    struct sigaction ign;
    std::memset(&ign, 0, sizeof ign);
    ign.sa_handler = SIG_IGN;
    sigemptyset(&ign.sa_mask);
    ::sigaction(SIGPIPE, &ign, &old);
  }
  ~IgnorePipe() { ::sigaction(SIGPIPE, &old, nullptr); }
};

// write_all for the socket to qmail-queued, with MSG_NOSIGNAL: a vanished
// peer is EPIPE without touching the caller's SIGPIPE disposition.
bool send_all(int fd, char const* p, size_t n) {
  while (n) {
    ssize_t w = ::send(fd, p, n, MSG_NOSIGNAL);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    p += w;
    n -= size_t(w);
  }
  return true;
}

// The connection keep_connections keeps between messages.
constexpr int64_t kKeepMs = 5000;
struct Kept {
  bool on = false;
  std::string dir;
  Fd sock;
  pid_t owner = -1;
  int64_t last_ms = 0;
};
Kept& kept() {
  static Kept k;
  return k;
}

// The kept connection for dir, if it may carry another message: this
// process's, recent, and with nothing to read (an end of file or a stray
// byte means qmail-queued closed it or the stream is out of step).
Fd take_kept(std::string const& dir) {
  Kept& k = kept();
  if (!k.sock.ok()) return Fd();
  Fd s = std::move(k.sock);
  if (k.owner != ::getpid() || k.dir != dir || monotonic_ms() - k.last_ms >= kKeepMs) return Fd();
  struct pollfd p = {s.get(), POLLIN, 0};
  if (::poll(&p, 1, 0) != 0) return Fd();
  return s;
}

}  // namespace

void QueueClient::keep_connections(bool on) {
  kept().on = on;
  if (!on) kept().sock.reset();
}

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
  buf_.clear();
  write_failed_ = source_failed_ = false;
  sock_.reset();
  if (program) return start_exec(program);
  if (char const* q = ignore_env ? nullptr : getenv("QMAILQUEUE"); q && *q) return start_exec(q);
  mode_ = Mode::pending;
  return true;
}

bool QueueClient::start_exec(std::string const& prog) {
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
  mode_ = Mode::exec;
  return true;
}

// The queue qmail-queue would choose for this head, and its qmail-queued.
bool QueueClient::connect_queued() {
  Choice choice;
  int code;
  if (!choose_queue(buf_, &choice, &code)) return false;
  dir_ = choice.dir;
  if (Fd k = take_kept(dir_); k.ok()) {
    sock_ = std::move(k);
    mode_ = Mode::socket;
    return true;
  }
  std::string path = inject_socket(choice.dir);
  struct sockaddr_un sa;
  std::memset(&sa, 0, sizeof sa);
  sa.sun_family = AF_UNIX;
  if (path.size() >= sizeof sa.sun_path) return false;
  std::memcpy(sa.sun_path, path.c_str(), path.size());
  // Non-blocking: a full backlog fails at once (EAGAIN) instead of waiting.
  Fd s(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!s.ok() || ::connect(s.get(), reinterpret_cast<struct sockaddr*>(&sa), sizeof sa) < 0)
    return false;
  // Taken only once qmail-queued greets us: a server busy with other users'
  // connections (or refusing ours) costs at most kGreetingWaitMs.
  struct pollfd p = {s.get(), POLLIN, 0};
  int64_t deadline = monotonic_ms() + wire::kGreetingWaitMs;
  for (;;) {
    int64_t left = deadline - monotonic_ms();
    if (left <= 0) return false;
    int r = ::poll(&p, 1, int(left));
    if (r > 0) break;
    if (r < 0 && errno != EINTR) return false;
  }
  char g;
  if (::read(s.get(), &g, 1) != 1 || g != wire::kGreeting) return false;
  int fl = ::fcntl(s.get(), F_GETFL);
  if (fl < 0 || ::fcntl(s.get(), F_SETFL, fl & ~O_NONBLOCK) < 0) return false;
  sock_ = std::move(s);
  mode_ = Mode::socket;
  return true;
}

// Decides where the message goes, once the head is known.
void QueueClient::resolve() {
  if (mode_ != Mode::pending) return;
  if (!connect_queued() && !start_exec(conf::program("qmail-queue"))) {
    write_failed_ = true;
    mode_ = Mode::none;
    return;
  }
  std::string head;
  head.swap(buf_);
  send(head);
}

void QueueClient::send(std::string_view s) {
  if (write_failed_ || s.empty()) return;
  if (mode_ == Mode::exec) {
    IgnorePipe guard;
    if (!write_all(msg_.get(), s)) write_failed_ = true;
    return;
  }
  if (mode_ != Mode::socket) {
    write_failed_ = true;
    return;
  }
  while (!s.empty()) {
    uint32_t n = uint32_t(s.size() < wire::kMaxChunk ? s.size() : wire::kMaxChunk);
    std::string hdr;
    wire::put_chunk_header(&hdr, n);
    // Header and chunk in one system call (the whole chunk, mostly).
    struct iovec v[2] = {{hdr.data(), hdr.size()}, {const_cast<char*>(s.data()), n}};
    struct msghdr m;
    std::memset(&m, 0, sizeof m);
    m.msg_iov = v;
    m.msg_iovlen = 2;
    ssize_t w;
    do w = ::sendmsg(sock_.get(), &m, MSG_NOSIGNAL);
    while (w < 0 && errno == EINTR);
    if (w < 0) {
      write_failed_ = true;
      return;
    }
    size_t done = size_t(w);
    bool ok = true;
    if (done < hdr.size()) {
      ok = send_all(sock_.get(), hdr.data() + done, hdr.size() - done) && send_all(sock_.get(), s.data(), n);
    } else if (done - hdr.size() < n) {
      size_t sent = done - hdr.size();
      ok = send_all(sock_.get(), s.data() + sent, n - sent);
    }
    if (!ok) {
      write_failed_ = true;
      return;
    }
    s.remove_prefix(n);
  }
}

void QueueClient::put(std::string_view s) {
  if (write_failed_) return;
  if (buf_.size() + s.size() > kHead) {
    resolve();
    send(buf_);
    buf_.clear();
    if (s.size() > kHead) {
      send(s);
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
      if (r < 0) source_failed_ = true;
      return;
    }
    put(std::string_view(b, size_t(r)));
  }
}

int QueueClient::close(std::string_view sender, std::vector<std::string> const& rcpts) {
  resolve();
  send(buf_);
  buf_.clear();
  std::string env;
  put_record(&env, 'F', sender);
  for (auto const& r : rcpts) put_record(&env, 'T', r);
  env.push_back('\0');
  // mode_ stays as it was until the next open(): pid() still names the queuer.
  return mode_ == Mode::socket ? close_socket(env) : mode_ == Mode::exec ? close_exec(env) : 120;
}

int QueueClient::close_exec(std::string const& env) {
  IgnorePipe guard;
  msg_.reset();
  // The envelope is what makes qmail-queue commit: a message that did not get
  // through whole gets none, so qmail-queue exits 54 and queues nothing.
  bool env_ok = false;
  if (!write_failed_ && !source_failed_) env_ok = write_all(env_.get(), env);
  env_.reset();
  int st;
  pid_t p;
  while ((p = ::waitpid(pid_, &st, 0)) < 0 && errno == EINTR) {
  }
  pid_ = -1;
  if (p < 0) return qq::bug;
  if (!WIFEXITED(st)) return qq::bug;
  int code = WEXITSTATUS(st);
  if (code == 0 && (write_failed_ || source_failed_ || !env_ok)) return qq::read;
  return code;
}

int QueueClient::close_socket(std::string const& env) {
  Fd s = std::move(sock_);
  if (source_failed_) return qq::read;  // closing without the end: qmail-queued drops it
  if (!write_failed_) {
    std::string end;
    wire::put_chunk_header(&end, 0);
    end += env;
    if (!send_all(s.get(), end.data(), end.size())) write_failed_ = true;
  }
  // The answer, even after a write error: qmail-queued may have refused early.
  // A connection to be kept stays open both ways: the answer ends the message.
  bool keep = kept().on && !write_failed_;
  if (!keep) ::shutdown(s.get(), SHUT_WR);
  // qmail-queued writes its answer line whole: mostly one read.
  std::string line;
  char b[16];
  for (;;) {
    ssize_t r = ::read(s.get(), b, sizeof b - line.size());
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    line.append(b, size_t(r));
    size_t nl = line.find('\n');
    if (nl != std::string::npos) {
      line.resize(nl);
      break;
    }
    if (line.size() >= sizeof b) break;
  }
  uint64_t code;
  if (!scan_u64(line, &code) || code > 255) return write_failed_ ? qq::write : qq::bug;
  if (keep) {
    Kept& k = kept();
    k.sock = std::move(s);
    k.dir = dir_;
    k.owner = ::getpid();
    k.last_ms = monotonic_ms();
  }
  return int(code);
}

}  // namespace qf::queue
