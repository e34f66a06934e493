// ISC license.
#include "deliver/lspawn.h"


#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cstring>
#include <memory>
#include <new>
#include <unordered_map>
#include <vector>

#include "addr/address.h"
#include "conf/auto.h"
#include "conf/paths.h"
#include "conf/users.h"
#include "deliver/lines.h"
#include "deliver/local.h"
#include "deliver/program.h"
#include "deliver/watchdog.h"
#include "queue/message.h"
#include "sys/fs.h"
#include "sys/skalibs.h"

namespace qf::deliver {

bool embedded_requested() {
  char const* e = getenv("QFLEET_EMBEDDED");
  return e && *e && !(e[0] == '0' && !e[1]);
}

bool lspawn_config(std::string default_delivery, LspawnConfig* out, std::string* err,
                   std::string* warning) {
  out->default_delivery = std::move(default_delivery);
  char const* qd = getenv("QUEUEDIR");
  out->queue = queue::Layout::from_env(qd && *qd ? std::string(qd) : conf::default_queue());
  out->slots = conf::auto_spawn < spawn::kMaxSlots ? conf::auto_spawn : unsigned(spawn::kMaxSlots);
  if (out->slots == 0) out->slots = 1;
  out->privileged = conf::privileged() && !embedded_requested();
  if (out->privileged) {
    conf::Account q;
    if (!conf::find_user(conf::User::qmailq, &q)) {
      *err = std::string("unable to find user ") + conf::user_name(conf::User::qmailq);
      return false;
    }
    out->message_owner = q.uid;
  } else {
    out->message_owner = ::geteuid();
  }
  out->timeout = kDefaultTimeoutLocal;
  if (!read_timeoutlocal(&out->timeout)) {
    *warning = "unable to read control/timeoutlocal: " + std::string(std::strerror(errno)) +
               "; using " + fmt_u64(kDefaultTimeoutLocal);
    out->timeout = kDefaultTimeoutLocal;
  }
  out->assign_path = path_join(conf::home(), "users/assign");
  return true;
}

namespace {

bool wants_all_groups(std::string const& user) { return conf::use_setgroups_for(user); }

}  // namespace

bool become_user(UserMapping const& m, bool privileged, std::string* err) {
  if (!privileged) {
    if (m.uid == ::geteuid()) return true;
    *err = "cannot switch to user " + m.user + ": qfleet runs unprivileged (#4.3.0)";
    return false;
  }
  if (m.uid == 0) {
    *err = "Not allowed to perform deliveries as root. (#4.3.0)";
    return false;
  }
  auto failed = [&](char const* what) {
    *err = "Unable to switch to user " + m.user + ": " + what + ": " + error_text(errno) +
           ". (#4.3.0)";
    return false;
  };
  if (wants_all_groups(m.user)) {
    if (::initgroups(m.user.c_str(), m.gid) < 0) return failed("initgroups");
  } else if (::setgroups(1, &m.gid) < 0) {
    return failed("setgroups");
  }
  if (::setgid(m.gid) < 0) return failed("setgid");
  if (::setuid(m.uid) < 0) return failed("setuid");
  if (::getuid() != m.uid || ::geteuid() != m.uid || ::getgid() != m.gid ||
      ::setuid(0) == 0) {
    errno = EPERM;
    return failed("verify");
  }
  return true;
}

spawn::Result result_of(int wstat, std::string text, bool truncated) {
  spawn::Result r;
  if (truncated || text.size() > kMaxLocalReport) {
    static constexpr std::string_view kLong = "\nError report too long, sorry.\n";
    size_t keep = kMaxLocalReport - kLong.size() - 3;
    if (text.size() > keep) text.resize(keep);
    text += kLong;
  }
  if (!WIFEXITED(wstat)) {
    r.status = 'Z';
    r.text = "qmail-local crashed.\n";
    return r;
  }
  switch (WEXITSTATUS(wstat)) {
    case 0: r.status = 'K'; break;
    case 100: r.status = 'D'; break;
    default: r.status = 'Z';
  }
  r.text = std::move(text);
  return r;
}

namespace {

// A persistent delivery worker: a child forked (no exec) that has become one
// recipient user (uid, gid, name: everything become_user depends on) and
// delivers that user's mail, one message at a time, until its socket closes.
// It saves the fork, the copy-on-write faults and the teardown of a child per
// recipient. Request: one SOCK_SEQPACKET packet of NUL-terminated fields (user,
// home, local, dash, ext, host, sender) with the message fd (SCM_RIGHTS).
// Reply: one packet, 'K' (exit 0), 'D' (100) or 'Z' (111) and the report.
// Anything else it writes (the watchdog's line before it exits) is report text
// of a delivery that ends when the socket does.
struct Worker {
  pid_t pid = 0;
  Fd sock;
  std::string key;
  bool busy = false;
  uint64_t idle_since = 0;  // seconds, monotonic
};

/// Idle workers kept (the longest idle goes first) and how long one may idle.
constexpr unsigned kIdleWorkerSeconds = 60;

uint64_t mono_seconds() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return uint64_t(ts.tv_sec);
}

struct Slot {
  bool busy = false;
  spawn::Command cmd;
  Fd mess;
  size_t next = 0;  // recipient in progress
  std::vector<spawn::Result> results;
  pid_t pid = 0;    // the delivery child, 0 when none
  Worker* worker = nullptr;  // or the worker delivering, with its report in out
  bool reaped = false;
  int wstat = 0;
  Fd pipe;          // its result pipe, closed at end of file
  std::string out;
  bool truncated = false;
  bool crashed = false;  // a child of this command was killed by a signal
};

class Spawner {
 public:
  Spawner(LspawnConfig const& c, int cmdfd, int repfd)
      : c_(c), cmdfd_(cmdfd), repfd_(repfd), slots_(c.slots), assign_(c.assign_path) {}
  int run();

 private:
  void warn(std::string const& s) const {
    if (c_.warn) c_.warn(s);
  }
  void read_commands();
  void handle(spawn::Command cmd);
  void advance(unsigned s);
  void start(unsigned s);
  [[noreturn]] void child(Slot const& slot, std::string const& rcpt, int resultfd);
  bool start_on_worker(unsigned s, UserMapping const& m, std::string const& local,
                       std::string const& host);
  Worker* spawn_worker(UserMapping const& m, std::string const& key);
  [[noreturn]] void worker_main(UserMapping const& m, int sock);
  void read_worker(unsigned s);
  void drop_worker(Worker* w);
  void retire_idle_workers(bool all);
  void read_child(unsigned s);
  void reap();
  void settle(unsigned s);
  void report(unsigned slot, spawn::Verdict v, std::vector<spawn::Result> const& results);
  void refuse_all(spawn::Command const& cmd, std::string const& text);

  LspawnConfig const& c_;
  int cmdfd_, repfd_;
  std::vector<Slot> slots_;
  std::unordered_map<pid_t, unsigned> by_pid_;
  std::vector<std::unique_ptr<Worker>> workers_;
  spawn::CommandReader reader_;
  AssignFile assign_;
  bool reading_ = true, writing_ = true, broken_ = false;
  unsigned busy_ = 0;
};

void Spawner::report(unsigned slot, spawn::Verdict v, std::vector<spawn::Result> const& results) {
  if (!writing_) return;
  std::string buf;
  spawn::encode_report(slot, v, results, &buf);
  if (!write_all(repfd_, buf)) {
    // qmail-send can no longer hear us: take no new command, finish the
    // deliveries in flight and exit 111, so that it restarts the set.
    warn(std::string("unable to write reports: ") + std::strerror(errno) +
         "; finishing deliveries in flight without reporting them, then exiting");
    writing_ = false;
    reading_ = false;
    broken_ = true;
  }
}

void Spawner::refuse_all(spawn::Command const& cmd, std::string const& text) {
  // The spawner's own trouble says nothing of the mailbox's.
  std::vector<spawn::Result> r(cmd.rcpts.size(), spawn::Result{'Z', text});
  report(cmd.slot, spawn::Verdict::none, r);
}

void Spawner::handle(spawn::Command cmd) {
  if (cmd.slot >= slots_.size()) {
    warn("qmail-send used delivery slot " + fmt_u64(cmd.slot) + " of " +
         fmt_u64(slots_.size()));
    return refuse_all(cmd, "Internal error: delivery slot too big. (#4.3.5)\n");
  }
  Slot& s = slots_[cmd.slot];
  if (s.busy) {
    warn("qmail-send reused busy delivery slot " + fmt_u64(cmd.slot));
    return refuse_all(cmd, "Internal error: delivery slot in use. (#4.3.5)\n");
  }
  Fd mess;
  std::string why;
  if (!queue::open_message(c_.queue, cmd.id, c_.message_owner, &mess, &why))
    return refuse_all(cmd, why + "\n");
  s.busy = true;
  busy_++;
  s.cmd = std::move(cmd);
  s.mess = std::move(mess);
  s.next = 0;
  s.results.clear();
  advance(unsigned(&s - slots_.data()));
}

// Starts the next recipient that needs a child, settling the others on the
// spot; reports the command when every recipient has its result.
void Spawner::advance(unsigned si) {
  Slot& s = slots_[si];
  while (s.next < s.cmd.rcpts.size()) {
    std::string const& rcpt = s.cmd.rcpts[s.next];
    size_t at = rcpt.rfind('@');
    std::string err;
    if (at == std::string::npos) {
      s.results.push_back({'D', "Sorry, address must include host name. (#5.1.3)\n"});
    } else if (at == 0) {
      s.results.push_back({'K', "Empty local part: nothing to deliver.\n"});  // qmail's <>
    } else if (!assign_.refresh(&err)) {
      warn(err);
      s.results.push_back({'Z', "Trouble reading users/assign in qmail-lspawn. (#4.3.0)\n"});
    } else {
      start(si);
      if (s.pid || s.worker) return;
    }
    s.next++;
  }
  // A crash is told apart from a deferral: qmail-send holds poison mail.
  report(si, s.crashed ? spawn::Verdict::crash : spawn::Verdict::ok, s.results);
  s.crashed = false;
  s.busy = false;
  s.mess.reset();
  s.cmd = spawn::Command();
  s.results.clear();
  busy_--;
}

void Spawner::start(unsigned si) {
  Slot& s = slots_[si];
  // A recipient of users/assign goes to a worker of its user (the lookup is a
  // table in memory). Others, and anything a worker cannot take, get a child
  // of their own that looks the user up (NSS) and delivers once.
  {
    std::string const& rcpt = s.cmd.rcpts[s.next];
    size_t at = rcpt.rfind('@');
    std::string local = rcpt.substr(0, at), host = rcpt.substr(at + 1);
    UserMapping m;
    if (assign_.table().lookup(local, &m) && !(c_.privileged && m.uid == 0) &&
        start_on_worker(si, m, local, host))
      return;
  }
  int p[2];
  if (::pipe2(p, O_CLOEXEC) < 0) {
    s.results.push_back({'Z', "Unable to create pipe: " + error_text(errno) + ". (#4.3.0)\n"});
    return;
  }
  Fd rd(p[0]), wr(p[1]);
  pid_t pid = ::fork();
  if (pid < 0) {
    s.results.push_back({'Z', "Unable to fork: " + error_text(errno) + ". (#4.3.0)\n"});
    return;
  }
  if (pid == 0) child(s, s.cmd.rcpts[s.next], wr.get());
  s.pid = pid;
  s.reaped = false;
  s.wstat = 0;
  s.pipe = std::move(rd);
  s.out.clear();
  s.truncated = false;
  by_pid_[pid] = si;
}

void Spawner::child(Slot const& slot, std::string const& rcpt, int resultfd) {
  try {
    selfpipe_finish();
    int null = ::open("/dev/null", O_RDWR);
    // The protocol pipes stay out of reach of everything the delivery runs.
    if (null < 0 || ::dup2(null, 0) < 0 || ::dup2(null, 1) < 0) _exit(111);
    int messfd = slot.mess.get();
    close_fds_from(3, {messfd, resultfd});
    ::umask(077);
    watchdog_arm(resultfd, c_.timeout + 300);
    auto fail = [&](std::string const& text) {
      write_all(resultfd, text + "\n");
      _exit(111);
    };
    size_t at = rcpt.rfind('@');
    std::string local = rcpt.substr(0, at), host = rcpt.substr(at + 1), err;
    UserMapping m;
    if (!assign_.table().lookup(local, &m) && !map_getpw(local, system_passwd(), &m, &err))
      fail(err);
    if (!become_user(m, c_.privileged, &err)) fail(err);
    LocalDelivery d;
    d.user = m.user;
    d.home = m.home;
    d.local = local;
    d.dash = m.dash;
    d.ext = m.ext;
    d.host = host;
    d.sender = addr::verp_sender(slot.cmd.sender, rcpt);
    d.default_delivery = c_.default_delivery;
    d.timeout = c_.timeout;
    std::string report;
    int code = deliver_local(d, messfd, &report);
    write_all(resultfd, report);
    _exit(code);
  } catch (std::bad_alloc const&) {
    write_all(resultfd, "Out of memory. (#4.3.0)\n");
    _exit(111);
  } catch (...) {
    _exit(111);
  }
}

std::string worker_key(UserMapping const& m) {
  return fmt_u64(m.uid) + ':' + fmt_u64(m.gid) + ':' + m.user;
}

bool Spawner::start_on_worker(unsigned si, UserMapping const& m, std::string const& local,
                              std::string const& host) {
  Slot& s = slots_[si];
  std::string const& rcpt = s.cmd.rcpts[s.next];
  std::string req;
  for (std::string const* f : {&m.user, &m.home, &local, &m.dash, &m.ext, &host}) {
    req += *f;
    req.push_back('\0');
  }
  req += addr::verp_sender(s.cmd.sender, rcpt);
  req.push_back('\0');
  std::string key = worker_key(m);
  // An idle worker of the user, else a new one; a worker found dead on the
  // send is dropped and one new worker tried.
  for (int attempt = 0; attempt < 2; attempt++) {
    Worker* w = nullptr;
    if (attempt == 0)
      for (auto& x : workers_)
        if (!x->busy && x->key == key && (!w || x->idle_since > w->idle_since)) w = x.get();
    if (!w) w = spawn_worker(m, key);
    if (!w) return false;
    struct iovec iov = {req.data(), req.size()};
    union {
      char buf[CMSG_SPACE(sizeof(int))];
      struct cmsghdr align;
    } u;
    std::memset(&u, 0, sizeof u);
    struct msghdr mh = {};
    mh.msg_iov = &iov;
    mh.msg_iovlen = 1;
    mh.msg_control = u.buf;
    mh.msg_controllen = sizeof u.buf;
    struct cmsghdr* cm = CMSG_FIRSTHDR(&mh);
    cm->cmsg_level = SOL_SOCKET;
    cm->cmsg_type = SCM_RIGHTS;
    cm->cmsg_len = CMSG_LEN(sizeof(int));
    int fd = s.mess.get();
    std::memcpy(CMSG_DATA(cm), &fd, sizeof fd);
    if (::sendmsg(w->sock.get(), &mh, MSG_NOSIGNAL) == ssize_t(req.size())) {
      w->busy = true;
      s.worker = w;
      s.out.clear();
      s.truncated = false;
      return true;
    }
    drop_worker(w);
  }
  return false;
}

Worker* Spawner::spawn_worker(UserMapping const& m, std::string const& key) {
  int sv[2];
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) return nullptr;
  Fd ours(sv[0]), theirs(sv[1]);
  pid_t pid = ::fork();
  if (pid < 0) return nullptr;
  if (pid == 0) {
    ours.reset();
    worker_main(m, theirs.get());
  }
  auto w = std::make_unique<Worker>();
  w->pid = pid;
  w->sock = std::move(ours);
  w->key = key;
  workers_.push_back(std::move(w));
  return workers_.back().get();
}

void Spawner::worker_main(UserMapping const& m, int sock) {
  try {
    selfpipe_finish();
    int null = ::open("/dev/null", O_RDWR);
    if (null < 0 || ::dup2(null, 0) < 0 || ::dup2(null, 1) < 0) _exit(111);
    close_fds_from(3, {sock});
    ::umask(077);
    std::string err;
    bool became = become_user(m, c_.privileged, &err);
    std::vector<char> buf(65536);
    for (;;) {
      struct iovec iov = {buf.data(), buf.size()};
      union {
        char b[CMSG_SPACE(sizeof(int))];
        struct cmsghdr align;
      } u;
      struct msghdr mh = {};
      mh.msg_iov = &iov;
      mh.msg_iovlen = 1;
      mh.msg_control = u.b;
      mh.msg_controllen = sizeof u.b;
      ssize_t r = ::recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) _exit(0);  // qmail-lspawn is done with us
      int messfd = -1;
      for (struct cmsghdr* cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm))
        if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS)
          std::memcpy(&messfd, CMSG_DATA(cm), sizeof messfd);
      Fd mess(messfd);
      std::vector<std::string> f;
      size_t at = 0;
      while (at < size_t(r)) {
        size_t z = at;
        while (z < size_t(r) && buf[z]) z++;
        f.emplace_back(buf.data() + at, z - at);
        at = z + 1;
      }
      auto reply = [&](char status, std::string text) {
        if (text.size() > kMaxLocalReport + 1) text.resize(kMaxLocalReport + 1);
        text.insert(text.begin(), status);
        if (::send(sock, text.data(), text.size(), MSG_NOSIGNAL) != ssize_t(text.size())) _exit(111);
      };
      if (!became) {
        reply('Z', err + "\n");
        _exit(111);
      }
      if (f.size() != 7 || !mess.ok()) {
        reply('Z', "Internal error: bad request to the delivery worker. (#4.3.5)\n");
        _exit(111);
      }
      watchdog_arm(sock, c_.timeout + 300);
      LocalDelivery d;
      d.user = f[0];
      d.home = f[1];
      d.local = f[2];
      d.dash = f[3];
      d.ext = f[4];
      d.host = f[5];
      d.sender = f[6];
      d.default_delivery = c_.default_delivery;
      d.timeout = c_.timeout;
      std::string report;
      int code = deliver_local(d, mess.get(), &report);
      watchdog_arm(sock, 0);
      reply(code == 0 ? 'K' : code == 100 ? 'D' : 'Z', std::move(report));
    }
  } catch (std::bad_alloc const&) {
    char const oom[] = "ZOut of memory. (#4.3.0)\n";
    ::send(sock, oom, sizeof oom - 1, MSG_NOSIGNAL);
    _exit(111);
  } catch (...) {
    _exit(111);
  }
}

// A reply (or a dying worker's last words) on a busy worker's socket.
void Spawner::read_worker(unsigned si) {
  Slot& s = slots_[si];
  Worker* w = s.worker;
  char buf[kMaxLocalReport + 64];
  ssize_t r = ::recv(w->sock.get(), buf, sizeof buf, MSG_DONTWAIT);
  if (r < 0 && (errno == EINTR || errno == EAGAIN)) return;
  spawn::Result res;
  if (r > 0 && (buf[0] == 'K' || buf[0] == 'D' || buf[0] == 'Z') && s.out.empty()) {
    int code = buf[0] == 'K' ? 0 : buf[0] == 'D' ? 100 : 111;
    res = result_of(W_EXITCODE(code, 0), std::string(buf + 1, size_t(r) - 1), false);
    w->busy = false;
    w->idle_since = mono_seconds();
  } else if (r > 0) {
    s.out.append(buf, size_t(r));  // the watchdog's line: the end follows
    return;
  } else {
    // The worker died in the delivery (its pid is reaped with the others):
    // a crash, as a child killed by a signal, unless its watchdog said why.
    if (s.out.empty()) s.crashed = true;
    res = s.out.empty() ? result_of(W_EXITCODE(0, SIGKILL), "", false)
                        : spawn::Result{'Z', s.out.substr(0, kMaxLocalReport)};
    drop_worker(w);
  }
  s.out.clear();
  s.worker = nullptr;
  s.results.push_back(std::move(res));
  s.next++;
  retire_idle_workers(false);
  advance(si);
}

void Spawner::drop_worker(Worker* w) {
  for (auto it = workers_.begin(); it != workers_.end(); ++it)
    if (it->get() == w) {
      workers_.erase(it);  // closes the socket: the worker exits at end of file
      return;
    }
}

// Ends idle workers past kIdleWorkerSeconds, and the longest idle beyond one
// per slot; all idle ones when all is set.
void Spawner::retire_idle_workers(bool all) {
  uint64_t now = mono_seconds();
  size_t idle = 0;
  for (auto const& w : workers_) idle += !w->busy;
  while (idle) {
    Worker* oldest = nullptr;
    for (auto const& w : workers_)
      if (!w->busy && (!oldest || w->idle_since < oldest->idle_since)) oldest = w.get();
    if (!all && idle <= slots_.size() && now < oldest->idle_since + kIdleWorkerSeconds) return;
    drop_worker(oldest);
    idle--;
  }
}

void Spawner::read_child(unsigned si) {
  Slot& s = slots_[si];
  char buf[4096];
  ssize_t r = ::read(s.pipe.get(), buf, sizeof buf);
  if (r < 0) {
    if (errno == EINTR || errno == EAGAIN) return;
    r = 0;  // a broken pipe: take it as the end
  }
  if (r == 0) {
    s.pipe.reset();
    return settle(si);
  }
  size_t room = s.out.size() < kMaxLocalReport + 1 ? kMaxLocalReport + 1 - s.out.size() : 0;
  if (size_t(r) > room) s.truncated = true;
  s.out.append(buf, size_t(r) < room ? size_t(r) : room);
}

void Spawner::reap() {
  for (;;) {
    int st;
    pid_t pid = ::waitpid(-1, &st, WNOHANG);
    if (pid <= 0) return;
    auto it = by_pid_.find(pid);
    if (it == by_pid_.end()) continue;
    unsigned si = it->second;
    by_pid_.erase(it);
    slots_[si].reaped = true;
    slots_[si].wstat = st;
    settle(si);
  }
}

// A child is done when it has exited and its pipe is at end of file.
void Spawner::settle(unsigned si) {
  Slot& s = slots_[si];
  if (!s.pid || !s.reaped || s.pipe.ok()) return;
  if (WIFSIGNALED(s.wstat)) s.crashed = true;
  s.results.push_back(result_of(s.wstat, std::move(s.out), s.truncated));
  s.out.clear();
  s.pid = 0;
  s.next++;
  advance(si);
}

void Spawner::read_commands() {
  char buf[8192];
  ssize_t r = ::read(cmdfd_, buf, sizeof buf);
  if (r < 0) {
    if (errno == EINTR || errno == EAGAIN) return;
    warn(std::string("unable to read commands: ") + std::strerror(errno));
    reading_ = false;
    return;
  }
  if (r == 0) {
    reading_ = false;
    return;
  }
  size_t pos = 0;
  while (pos < size_t(r)) {
    size_t used;
    auto st = reader_.feed(buf + pos, size_t(r) - pos, &used);
    pos += used;
    if (st == spawn::CommandReader::Status::command) {
      handle(reader_.take());
    } else if (st == spawn::CommandReader::Status::bad) {
      warn("malformed command from qmail-send; no longer reading commands");
      reading_ = false;
      broken_ = true;
      return;
    }
  }
}

int Spawner::run() {
  int self = selfpipe_init();
  if (self < 0 || selfpipe_trap(SIGCHLD) < 0) {
    warn(std::string("unable to set up the self-pipe: ") + std::strerror(errno));
    return ex::temp;
  }
  if (!write_all(repfd_, spawn::encode_slots(unsigned(slots_.size())))) {
    warn(std::string("unable to write the slot count: ") + std::strerror(errno));
    return ex::temp;
  }
  std::vector<iopause_fd> fds;
  std::vector<unsigned> owner;  // the slot of each result pipe in fds
  tain_now_set_stopwatch_g();
  tain_now_g();
  while (reading_ || busy_) {
    fds.clear();
    owner.clear();
    fds.push_back({self, IOPAUSE_READ, 0});
    owner.push_back(0);
    size_t first_pipe = 1;
    if (reading_) {
      fds.push_back({cmdfd_, IOPAUSE_READ, 0});
      owner.push_back(0);
      first_pipe = 2;
    }
    for (unsigned i = 0; i < slots_.size(); i++)
      if (slots_[i].pipe.ok()) {
        fds.push_back({slots_[i].pipe.get(), IOPAUSE_READ, 0});
        owner.push_back(i);
      } else if (slots_[i].worker) {
        fds.push_back({slots_[i].worker->sock.get(), IOPAUSE_READ, 0});
        owner.push_back(i);
      }
    // Wake up now and then while idle workers wait to be retired.
    tain deadline;
    bool any_idle = false;
    for (auto const& w : workers_) any_idle |= !w->busy;
    if (any_idle) tain_addsec_g(&deadline, kIdleWorkerSeconds / 2);
    int r = iopause_g(fds.data(), unsigned(fds.size()), any_idle ? &deadline : nullptr);
    if (r < 0) {
      if (errno == EINTR) continue;
      warn(std::string("unable to iopause: ") + std::strerror(errno));
      return ex::temp;
    }
    // Pipes first: a child's last words must be in before its death settles it.
    for (size_t i = first_pipe; i < fds.size(); i++)
      if (fds[i].revents) {
        if (slots_[owner[i]].worker) read_worker(owner[i]);
        else read_child(owner[i]);
      }
    if (r == 0) retire_idle_workers(false);
    if (fds[0].revents) {
      while (selfpipe_read() > 0) {
      }
      reap();
    }
    if (first_pipe == 2 && fds[1].revents && reading_) read_commands();
  }
  // End the idle workers and wait for them: nothing of ours outlives us.
  std::vector<pid_t> pids;
  for (auto const& w : workers_) pids.push_back(w->pid);
  retire_idle_workers(true);
  for (pid_t pid : pids) {
    int st;
    while (::waitpid(pid, &st, 0) < 0 && errno == EINTR) {
    }
  }
  return broken_ ? ex::temp : ex::ok;
}

}  // namespace

int run_lspawn(LspawnConfig const& c, int cmdfd, int repfd) {
  ::signal(SIGPIPE, SIG_IGN);
  // Two descriptors per busy slot: ask for as many as the hard limit allows.
  struct rlimit rl;
  if (::getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &rl);
  }
  return Spawner(c, cmdfd, repfd).run();
}

}  // namespace qf::deliver
