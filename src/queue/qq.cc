// ISC license.
#include "queue/qq.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <unordered_map>

#include "conf/paths.h"
#include "conf/users.h"
#include "multi/ipc.h"
#include "queue/envelope.h"
#include "queue/inject.h"
#include "queue/layout.h"
#include "queue/select.h"
#include "queue/sweep.h"
#include "queue/trigger.h"
#include "sys/exitcodes.h"
#include "sys/fs.h"
#include "sys/timefmt.h"

namespace qf::queue {

int code_for(int err, int step_code) {
  if (err == ENOSPC || err == EDQUOT || err == EFBIG) return qq::write;
  if (err == ENOMEM) return qq::nomem;
  return step_code;
}

int commit_failure_code(Injection const& inj, int err) {
  switch (inj.failed_stage()) {
    case Injection::Stage::sync_intd:
    case Injection::Stage::sync_mess_dir: return code_for(err, qq::write);
    default: return code_for(err, qq::todo);
  }
}

namespace {

volatile sig_atomic_t timed_out = 0;

void on_alarm(int) { timed_out = 1; }
void on_fault(int) { _exit(qq::bug); }

void install_signals() {
  struct sigaction sa;
  std::memset(&sa, 0, sizeof sa);
  sigemptyset(&sa.sa_mask);
  sa.sa_handler = on_alarm;  // no SA_RESTART: a blocked read returns EINTR
  sigaction(SIGALRM, &sa, nullptr);
  sa.sa_handler = on_fault;
  for (int s : {SIGSEGV, SIGBUS, SIGILL, SIGFPE}) sigaction(s, &sa, nullptr);
  sa.sa_handler = SIG_IGN;
  // SIGXFSZ ignored: an over-limit write fails with EFBIG, which is exit 53.
  for (int s : {SIGPIPE, SIGXFSZ}) sigaction(s, &sa, nullptr);
  alarm(kDeathSeconds);
}

// Reads with the self-timeout: -1 with *code set on error or timeout.
ssize_t read_some(int fd, char* buf, size_t len, int* code) {
  for (;;) {
    if (timed_out) {
      *code = qq::timeout;
      return -1;
    }
    ssize_t r = ::read(fd, buf, len);
    if (r >= 0) return r;
    if (errno == EINTR) continue;
    *code = qq::read;
    return -1;
  }
}

bool fd_open(int fd) { return ::fcntl(fd, F_GETFD) >= 0; }

// Copies the Received line, the head already read, and the rest of msgfd to
// the message file.
int copy_message(Injection& inj, int msgfd, std::string const& received, std::string const& head,
                 bool head_is_all) {
  static char buf[1 << 16];
  std::string first = received + head;
  if (!write_all(inj.mess_fd(), first)) return code_for(errno, qq::write);
  bool eof = head_is_all;
  while (!eof) {
    int code;
    ssize_t r = read_some(msgfd, buf, sizeof buf, &code);
    if (r < 0) return code;
    if (r == 0) break;
    if (!write_all(inj.mess_fd(), buf, size_t(r))) return code_for(errno, qq::write);
  }
  if (!inj.sync_message()) return code_for(errno, qq::write);
  return qq::ok;
}

// Reads up to len bytes of the message (the head the hash policy looks at).
int read_head(int msgfd, std::string* head, size_t len, bool* all) {
  head->resize(len);
  size_t got = 0;
  *all = false;
  while (got < len) {
    int code;
    ssize_t r = read_some(msgfd, head->data() + got, len - got, &code);
    if (r < 0) return code;
    if (r == 0) {
      *all = true;
      break;
    }
    got += size_t(r);
  }
  head->resize(got);
  return qq::ok;
}

// Reads the envelope from envfd, validating it, into intd/N after the u and p records.
int copy_envelope(Injection& inj, int envfd, uid_t uid, pid_t pid) {
  std::string out;
  out.reserve(1 << 16);
  put_record(&out, 'u', fmt_u64(uid));
  put_record(&out, 'p', fmt_u64(uint64_t(pid)));
  EnvelopeParser parser;
  static char buf[1 << 16];
  for (;;) {
    int code;
    ssize_t r = read_some(envfd, buf, sizeof buf, &code);
    if (r < 0) return code;
    if (r == 0) return qq::read;  // EOF before the terminating NUL
    size_t used;
    auto st = parser.feed(buf, size_t(r), &used, &out);
    if (st == EnvelopeParser::Status::too_long) return qq::addr_too_long;
    if (st == EnvelopeParser::Status::bad_format) return qq::envelope;
    if (out.size() >= sizeof buf || st == EnvelopeParser::Status::done) {
      if (!write_all(inj.intd_fd(), out)) return code_for(errno, qq::write);
      out.clear();
    }
    if (st == EnvelopeParser::Status::done) return qq::ok;
  }
}

constexpr size_t kKnownUids = 256;

std::string line_for(pid_t pid, std::string const& how, time_t now) {
  return "Received: (qmail " + fmt_u64(uint64_t(pid)) + " invoked " + how + "); " + date822(now) +
         "\n";
}

}  // namespace

std::string invoked_how(uid_t uid, bool* settled) {
  conf::Account a;
  bool found = conf::find_uid(uid, &a);
  // getpwuid(3): no such uid is 0, ENOENT, ESRCH, EBADF or EPERM; anything
  // else (EIO, EMFILE, ENOMEM, ...) may be gone at the next try.
  int e = errno;
  if (settled) *settled = found || e == 0 || e == ENOENT || e == ESRCH || e == EBADF || e == EPERM;
  if (found && a.uid == uid) {
    if (a.name == conf::user_name(conf::User::alias)) return "by alias";
    if (a.name == conf::user_name(conf::User::qmaild)) return "from network";
    if (a.name == conf::user_name(conf::User::qmails)) return "for bounce";
  }
  return "by uid " + fmt_u64(uid);
}

std::string received_line(pid_t pid, uid_t uid, time_t now) {
  // qmail compiles these uids in; qmail-queued, which asks for every message,
  // looks each caller's uid up once (an NSS lookup reads /etc/passwd) and keeps
  // the answer. A lookup that failed for a reason other than "no such uid" is
  // not kept.
  static std::unordered_map<uid_t, std::string> known;
  auto it = known.find(uid);
  if (it == known.end()) {
    bool settled;
    std::string how = invoked_how(uid, &settled);
    if (!settled) return line_for(pid, how, now);
    if (known.size() >= kKnownUids) known.clear();
    it = known.emplace(uid, std::move(how)).first;
  }
  return line_for(pid, it->second, now);
}

int qmail_queue(int msgfd, int envfd) {
  install_signals();
  ::umask(033);
  if (!fd_open(msgfd) || !fd_open(envfd)) return qq::read;
  // Keep our own files off fd 2 if the caller closed it.
  if (!fd_open(2)) {
    int fd = ::open("/dev/null", O_RDWR);
    if (fd >= 0 && fd != 2) ::close(fd);
  }

  std::string head;
  bool head_is_all;
  int code = read_head(msgfd, &head, 1 << 16, &head_is_all);
  if (code != qq::ok) return code;
  Choice choice;
  if (!choose_queue(head, &choice, &code)) return code;
  std::string const& dir = choice.dir;
  struct stat st;
  if (::stat(dir.c_str(), &st) < 0 || !S_ISDIR(st.st_mode)) {
    bool from_home = dir == conf::default_queue();
    return from_home && ::stat(conf::home().c_str(), &st) < 0 ? qq::home : qq::queuedir;
  }
  Layout q = Layout::from_env(dir);
  // A split or BIGTODO that disagrees with the queue on disk would strand the
  // message where no daemon looks: refuse instead.
  if (!layout_matches(q)) return qq::queuedir;

  pid_t pid = ::getpid();
  uid_t uid = ::getuid();
  time_t now = ::time(nullptr);
  Injection inj(q);
  if (!inj.create_message(pid, uint64_t(now)))
    return code_for(errno, inj.failed_in_pid() ? qq::pid : qq::mess);
  if ((code = copy_message(inj, msgfd, received_line(pid, uid, now), head, head_is_all)) != qq::ok)
    return code;
  if (!inj.create_envelope()) return code_for(errno, qq::intd);
  if ((code = copy_envelope(inj, envfd, uid, pid)) != qq::ok) return code;
  if (!inj.commit()) return commit_failure_code(inj, errno);
  // Wake-ups are hints: a lost one is repaired by todo-proc's periodic scan.
  bool noted = choice.notify && multi::notify(choice.base, choice.number, inj.id());
  if (!noted || choice.trigger) pull_trigger(q);
  return qq::ok;
}

}  // namespace qf::queue
