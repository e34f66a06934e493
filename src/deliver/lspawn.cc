// ISC license.
#include "deliver/lspawn.h"


#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
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

struct Slot {
  bool busy = false;
  spawn::Command cmd;
  Fd mess;
  size_t next = 0;  // recipient in progress
  std::vector<spawn::Result> results;
  pid_t pid = 0;    // the delivery child, 0 when none
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
  void read_child(unsigned s);
  void reap();
  void settle(unsigned s);
  void report(unsigned slot, spawn::Verdict v, std::vector<spawn::Result> const& results);
  void refuse_all(spawn::Command const& cmd, std::string const& text);

  LspawnConfig const& c_;
  int cmdfd_, repfd_;
  std::vector<Slot> slots_;
  std::unordered_map<pid_t, unsigned> by_pid_;
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
      if (s.pid) return;
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
      }
    int r = iopause_g(fds.data(), unsigned(fds.size()), nullptr);
    if (r < 0) {
      if (errno == EINTR) continue;
      warn(std::string("unable to iopause: ") + std::strerror(errno));
      return ex::temp;
    }
    // Pipes first: a child's last words must be in before its death settles it.
    for (size_t i = first_pipe; i < fds.size(); i++)
      if (fds[i].revents) read_child(owner[i]);
    if (fds[0].revents) {
      while (selfpipe_read() > 0) {
      }
      reap();
    }
    if (first_pipe == 2 && fds[1].revents && reading_) read_commands();
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
