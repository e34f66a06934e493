// ISC license.
#include "multi/supervisor.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <mqueue.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "conf/control.h"
#include "conf/paths.h"
#include "conf/users.h"
#include "queue/layout.h"
#include "sys/exitcodes.h"
#include "sys/fs.h"

namespace qf::multi {

namespace {

bool env_uint(char const* name, unsigned* out, unsigned lo, unsigned hi, std::string* err) {
  char const* s = getenv(name);
  if (!s || !*s) return true;
  uint64_t n;
  if (!scan_u64(s, &n) || n < lo || n > hi) {
    *err = std::string(name) + " must be a number from " + std::to_string(lo) + " to " +
           std::to_string(hi);
    return false;
  }
  *out = unsigned(n);
  return true;
}

std::string status_text(int st) {
  if (WIFEXITED(st)) return "exited " + std::to_string(WEXITSTATUS(st));
  if (WIFSIGNALED(st)) return std::string("killed by signal ") + std::to_string(WTERMSIG(st));
  return "stopped";
}

bool dir_has_files(std::string const& d) {
  DIR* dp = ::opendir(d.c_str());
  if (!dp) return false;
  bool any = false;
  while (struct dirent* e = ::readdir(dp))
    if (e->d_name[0] != '.') {
      any = true;
      break;
    }
  ::closedir(dp);
  return any;
}

pid_t pid_in_file(std::string const& path) {
  std::string s;
  if (!read_file(path.c_str(), &s, 64)) return 0;
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  uint64_t n;
  return scan_u64(s, &n) && n > 1 && n < uint64_t(INT_MAX) ? pid_t(n) : 0;
}

bool lock_held(std::string const& path) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.ok()) return false;
  if (::flock(fd.get(), LOCK_EX | LOCK_NB) == 0) return false;
  return errno == EWOULDBLOCK;
}

}  // namespace

bool options_from_env(Options* o, std::string* err) {
  o->base = conf::queue_base();
  if (!env_uint("QUEUE_START", &o->start, 1, kMaxQueues, err)) return false;
  if (!env_uint("QUEUE_COUNT", &o->count, 1, kMaxQueues, err)) return false;
  o->max = std::max(o->count, std::min(20u, kMaxQueues + 1 - std::min(o->start, kMaxQueues)));
  if (!env_uint("QUEUE_MAX", &o->max, 1, kMaxQueues, err)) return false;
  if (!env_uint("QUEUE_LOAD", &o->max_load, 1, 100, err)) return false;
  if (!env_uint("MAX_LOAD", &o->max_load, 1, 100, err)) return false;
  if (o->max < o->count) o->max = o->count;
  if (o->start + o->max - 1 > kMaxQueues) {
    *err = "QUEUE_START + QUEUE_MAX - 1 must not exceed " + std::to_string(kMaxQueues);
    return false;
  }
  o->split = conf::split();
  o->bigtodo = conf::bigtodo();
  if (!conf::control_uint("msgqueuelen", &o->mq_len, 1024) ||
      !conf::control_uint("msgqueuesize", &o->mq_size, 64)) {
    *err = "unable to read control/msgqueuelen or control/msgqueuesize";
    return false;
  }
  if (o->mq_size < 8) o->mq_size = 8;
  if (o->mq_size > 8192) o->mq_size = 8192;  // a note is 8 bytes; todo-proc reads 8 KiB at most
  if (o->mq_len < 1) o->mq_len = 1;
  return true;
}

void QScheduler::say(std::string const& s) { write_all(1, "qscheduler: info: " + s + "\n"); }
void QScheduler::warn(std::string const& s) { write_all(2, "qscheduler: warning: " + s + "\n"); }

std::string QScheduler::dir(unsigned n) const { return path_join(o_.base, "queue" + fmt_u64(n)); }

bool QScheduler::prepare(unsigned n) {
  std::string qf = conf::program("queue-fix");
  std::string split = fmt_u64(o_.split);
  pid_t pid = ::fork();
  if (pid < 0) return false;
  if (pid == 0) {
    SignalPipe::undo_in_child();
    int null = ::open("/dev/null", O_WRONLY);
    if (null >= 0) ::dup2(null, 1);
    std::string d = dir(n);
    char const* argv[] = {qf.c_str(), "-q", "-s", split.c_str(), o_.bigtodo ? "-b" : "-B",
                          d.c_str(), nullptr};
    ::execv(argv[0], const_cast<char**>(argv));
    _exit(ex::temp);
  }
  int st;
  while (::waitpid(pid, &st, 0) < 0 && errno == EINTR) {
  }
  if (!WIFEXITED(st) || (WEXITSTATUS(st) != 0 && WEXITSTATUS(st) != 2)) {
    warn("queue " + fmt_u64(n) + ": queue-fix " + dir(n) + " " + status_text(st));
    return false;
  }
  if (!o_.dynamic) return true;
  // Its message queue, made afresh: a squatted or stale object is never trusted.
  std::string name = mq_name(o_.base, n);
  ::mq_unlink(name.c_str());
  struct mq_attr a;
  std::memset(&a, 0, sizeof a);
  a.mq_maxmsg = long(o_.mq_len);
  a.mq_msgsize = long(o_.mq_size);
  mode_t mode = conf::privileged() ? 0660 : 0600;
  mqd_t m = ::mq_open(name.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, mode, &a);
  if (m == mqd_t(-1) && (errno == EINVAL || errno == EMFILE || errno == ENOMEM)) {
    // Beyond this machine's limits (fs.mqueue.msg_max, RLIMIT_MSGQUEUE): the default size.
    std::string s;
    uint64_t lim = 10;
    if (read_file("/proc/sys/fs/mqueue/msg_max", &s, 64)) {
      while (!s.empty() && s.back() == '\n') s.pop_back();
      scan_u64(s, &lim);
    }
    a.mq_maxmsg = long(std::min<uint64_t>(lim, o_.mq_len));
    m = ::mq_open(name.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, mode, &a);
    if (m != mqd_t(-1))
      warn("queue " + fmt_u64(n) + ": message queue limited to " + fmt_u64(uint64_t(a.mq_maxmsg)) +
           " notes by this machine");
  }
  if (m == mqd_t(-1)) {
    warn("queue " + fmt_u64(n) + ": unable to create message queue " + name + ": " +
         strerror(errno) + "; todo-proc will rely on lock/trigger");
    return true;
  }
  if (conf::privileged() && ::fchown(int(m), qmailq_uid_, qmail_gid_) < 0)
    warn("queue " + fmt_u64(n) + ": unable to chown message queue " + name);
  ::fchmod(int(m), mode);
  ::mq_close(m);
  return true;
}

// A qmail-send still holding this queue (say, from a qscheduler killed with -9)
// is asked to finish; the queue starts once its lock is free.
bool QScheduler::evict_old_send(unsigned n) {
  std::string mutex = dir(n) + "/lock/sendmutex";
  if (!lock_held(mutex)) return true;
  pid_t old = pid_in_file(mutex);
  if (old > 0 && ::kill(old, SIGTERM) == 0)
    say("queue " + fmt_u64(n) + ": asked the qmail-send left running (pid " + fmt_u64(uint64_t(old)) +
        ") to finish");
  return false;
}

void QScheduler::start(Queue& q) {
  time_t now = ::time(nullptr);
  if (!evict_old_send(q.n)) {
    q.restart_at = now + 2;
    return;
  }
  // queue-fix and the message queue only once no old qmail-send writes there.
  if (!prepare(q.n)) {
    q.restart_at = now + 10;
    return;
  }
  pid_t pid = ::fork();
  if (pid < 0) {
    warn("queue " + fmt_u64(q.n) + ": unable to fork: " + strerror(errno));
    q.restart_at = now + 5;
    return;
  }
  if (pid == 0) {
    SignalPipe::undo_in_child();
    std::string d = dir(q.n);
    ::setenv("QUEUEDIR", d.c_str(), 1);
    ::setenv("QIDENT", fmt_u64(q.n).c_str(), 1);
    ::setenv("QUEUE_BASE", o_.base.c_str(), 1);
    ::setenv("CONFSPLIT", fmt_u64(o_.split).c_str(), 1);
    if (o_.bigtodo) ::setenv("BIGTODO", "1", 1);
    else ::unsetenv("BIGTODO");
    std::string prog = conf::program("qmail-start");
    std::vector<char*> argv{const_cast<char*>(prog.c_str())};
    for (auto const& a : o_.start_args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    ::execv(argv[0], argv.data());
    _exit(ex::temp);
  }
  q.pid = pid;
  q.started = now;
  q.restart_at = 0;
  q.stopping = false;
  if (QueueSlot* s = shm_.slot(q.n)) {
    if (!q.draining) s->state.store(uint32_t(QState::starting));
    s->send_pid.store(0);
  }
  say("queue " + fmt_u64(q.n) + ": started qmail-start pid " + fmt_u64(uint64_t(pid)) + " for " + dir(q.n));
}

void QScheduler::on_exit(pid_t pid, int st) {
  for (auto& [n, q] : queues_) {
    if (q.pid != pid) continue;
    time_t now = ::time(nullptr);
    q.pid = 0;
    QueueSlot* s = shm_.slot(n);
    if (q.stopping || exiting_) {
      say("queue " + fmt_u64(n) + ": qmail-send " + status_text(st));
      if (s) s->state.store(uint32_t(QState::stopped));
      return;
    }
    // Crash loops must not spin: exponential backoff, and a budget of 10
    // restarts per 10 minutes that frees up as time passes.
    q.fails = now - q.started > 60 ? 0 : q.fails + 1;
    q.restarts.erase(std::remove_if(q.restarts.begin(), q.restarts.end(),
                                    [now](time_t t) { return now - t > 600; }),
                     q.restarts.end());
    time_t delay = time_t(1) << std::min(q.fails, 6u);
    if (q.restarts.size() >= 10) delay = std::max<time_t>(delay, 120);
    q.restarts.push_back(now);
    q.restart_at = now + delay;
    if (s && !q.draining) s->state.store(uint32_t(QState::starting));
    warn("queue " + fmt_u64(n) + ": qmail-start pid " + fmt_u64(uint64_t(pid)) + " " +
         status_text(st) + " after " + fmt_u64(uint64_t(now - q.started)) + " s; restarting in " +
         fmt_u64(uint64_t(delay)) + " s");
    return;
  }
}

bool QScheduler::empty(unsigned n) const {
  queue::Layout q(dir(n), o_.split, o_.bigtodo);
  if (q.is_split(queue::Dir::todo)) {
    for (unsigned i = 0; i < q.split(); i++)
      if (dir_has_files(q.subdir(queue::Dir::todo, i))) return false;
  } else if (dir_has_files(q.dir(queue::Dir::todo))) {
    return false;
  }
  for (unsigned i = 0; i < q.split(); i++)
    if (dir_has_files(q.subdir(queue::Dir::info, i))) return false;
  return true;
}

void QScheduler::drain_step(Queue& q, time_t now) {
  (void)now;
  if (!q.drain_lock.ok()) {
    Fd fd(::open((dir(q.n) + "/lock/drain").c_str(), O_RDONLY | O_CLOEXEC));
    // Injectors that picked the queue before it was marked hold a shared lock.
    if (!fd.ok() || ::flock(fd.get(), LOCK_EX | LOCK_NB) < 0) return;
    q.drain_lock = std::move(fd);
    say("queue " + fmt_u64(q.n) + ": draining: no new mail is routed here");
  }
  if (!q.pid || q.stopping || !empty(q.n)) return;
  q.stopping = true;
  say("queue " + fmt_u64(q.n) + ": drained empty; stopping its daemons");
  ::kill(q.pid, SIGTERM);
}

void QScheduler::grow(time_t now) {
  unsigned top = o_.start;
  unsigned live = 0;
  for (auto const& [n, q] : queues_) {
    if (q.pid || q.restart_at) {
      top = std::max(top, n);
      live++;
    }
  }
  if (live >= o_.max) return;
  unsigned n = top + 1;
  // Prefer reviving a stopped queue below the top.
  for (unsigned m = o_.start; m < top; m++)
    if (!queues_[m].pid && !queues_[m].restart_at && !queues_[m].draining) {
      n = m;
      break;
    }
  if (n >= o_.start + o_.max || n > kMaxQueues) return;
  Queue& q = queues_[n];
  q.n = n;
  q.draining = false;
  q.drain_lock.reset();
  uint32_t count = shm_.get()->h.count.load();
  if (n - o_.start + 1 > count) shm_.get()->h.count.store(n - o_.start + 1);
  say("queue " + fmt_u64(n) + ": every queue stayed above " + fmt_u64(o_.max_load) +
      "% load: adding it");
  start(q);
  scale_.reset();
  (void)now;
}

void QScheduler::tick(time_t now) {
  bool new_second = now != last_tick_;
  last_tick_ = now;
  for (auto& [n, q] : queues_) {
    if (!q.pid && q.restart_at && now >= q.restart_at && !exiting_) start(q);
    QueueSlot* s = shm_.slot(n);
    if (!s) continue;
    // Advertised only once its qmail-send is up.
    if (q.pid && !q.draining && QState(s->state.load()) == QState::starting && s->send_pid.load() != 0)
      s->state.store(uint32_t(QState::active));
    if (q.draining) drain_step(q, now);
  }
  if (exiting_) return;
  if (o_.once) {
    bool all_empty = true;
    for (auto const& [n, q] : queues_) all_empty &= empty(n);
    if (all_empty && now - queues_.begin()->second.started > 1) {
      say("once: every queue is empty; stopping");
      exiting_ = true;
      for (auto& [n, q] : queues_)
        if (q.pid) {
          q.stopping = true;
          ::kill(q.pid, SIGTERM);
        }
    }
    return;
  }
  if (!o_.dynamic || o_.fixed || !new_second) return;

  // Load: each active queue's figure, once a second, to the autoscaler.
  std::map<unsigned, unsigned> loads;
  unsigned live = 0;
  bool draining = false;
  for (auto& [n, q] : queues_) {
    QueueSlot* s = shm_.slot(n);
    if (q.draining && (q.pid || q.restart_at)) draining = true;
    if (!s || !q.pid || q.draining) continue;
    live++;
    if (QState(s->state.load()) != QState::active) continue;
    loads[n] = load_of(*s);
  }
  switch (scale_.tick(now, loads, live, draining)) {
    case Autoscaler::Action::grow: grow(now); break;
    case Autoscaler::Action::drain:
      // The highest-numbered active queue goes.
      for (auto it = queues_.rbegin(); it != queues_.rend(); ++it) {
        Queue& q = it->second;
        if (!q.pid || q.draining) continue;
        q.draining = true;
        if (QueueSlot* s = shm_.slot(q.n)) s->state.store(uint32_t(QState::draining));
        say("queue " + fmt_u64(q.n) + ": every queue stayed below " + fmt_u64(o_.max_load / 2) +
            "% load: draining it");
        break;
      }
      break;
    case Autoscaler::Action::none: break;
  }
  // Shrink the advertised range past stopped queues at the top.
  uint32_t count = shm_.get()->h.count.load();
  while (count > o_.count) {
    unsigned n = o_.start + count - 1;
    auto it = queues_.find(n);
    if (it != queues_.end() && (it->second.pid || it->second.restart_at)) break;
    if (it != queues_.end() && it->second.draining) {
      ::mq_unlink(mq_name(o_.base, n).c_str());
      it->second.draining = false;
      it->second.drain_lock.reset();
      say("queue " + fmt_u64(n) + ": removed from service (its directory stays, empty)");
    }
    count--;
  }
  shm_.get()->h.count.store(count);
}

void QScheduler::forward(int sig) {
  for (auto const& [n, q] : queues_)
    if (q.pid) ::kill(q.pid, sig);
}

int QScheduler::run() {
  if (!mkdir_p(o_.base, 0755)) {
    warn("unable to create " + o_.base + ": " + strerror(errno));
    return ex::temp;
  }
  char buf[PATH_MAX];
  if (::realpath(o_.base.c_str(), buf)) o_.base = buf;
  lock_.reset(::open((o_.base + "/.qscheduler").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644));
  if (!lock_.ok() || ::flock(lock_.get(), LOCK_EX | LOCK_NB) < 0) {
    warn("another qscheduler runs for " + o_.base + " (or its lock cannot be taken)");
    return ex::temp;
  }
  if (conf::privileged()) {
    conf::Account a;
    if (!conf::find_user(conf::User::qmailq, &a) || !conf::find_group(conf::Group::qmail, &qmail_gid_)) {
      warn("unable to find the qmail users (run package/users)");
      return ex::temp;
    }
    qmailq_uid_ = a.uid;
  }
  // A logger that is gone must not take us down with queues still running.
  ::signal(SIGPIPE, SIG_IGN);
  if (!sig_.init({SIGTERM, SIGHUP, SIGALRM, SIGCHLD, SIGINT})) {
    warn("unable to trap signals");
    return ex::temp;
  }
  bool priv = conf::privileged();
  if (!shm_.create(o_.base, priv ? 0 : ::getuid(), priv ? qmail_gid_ : ::getgid(),
                   priv ? 0664 : 0644)) {
    warn("unable to create shared memory " + shm_name(o_.base) + ": " + strerror(errno));
    return ex::temp;
  }
  Header& h = shm_.get()->h;
  h.dynamic.store(o_.dynamic ? 1 : 0);
  h.compat.store(o_.compat ? 1 : 0);
  h.sched_pid.store(uint32_t(::getpid()));
  h.start.store(o_.start);
  h.count.store(o_.count);
  h.max_load.store(o_.max_load);
  say(std::string("starting ") + (o_.dynamic ? "load-driven" : "static") + ": " +
      fmt_u64(o_.count) + " queue(s) from " + dir(o_.start) +
      (o_.dynamic ? ", up to " + fmt_u64(o_.max) + " at " + fmt_u64(o_.max_load) + "% load" : ""));
  for (unsigned i = 0; i < o_.count; i++) {
    unsigned n = o_.start + i;
    Queue& q = queues_[n];
    q.n = n;
    start(q);
  }
  // Queues a previous qscheduler added (it was killed, say) are taken over when
  // they hold mail or a qmail-send still runs there: nothing is left unattended.
  for (unsigned n = o_.start + o_.count; n < o_.start + o_.max && n <= kMaxQueues; n++) {
    struct stat st;
    if (::stat(dir(n).c_str(), &st) < 0) continue;
    if (empty(n) && !lock_held(dir(n) + "/lock/sendmutex")) continue;
    Queue& q = queues_[n];
    q.n = n;
    if (n - o_.start + 1 > h.count.load()) h.count.store(n - o_.start + 1);
    say("queue " + fmt_u64(n) + ": found with mail or a running qmail-send; taking it over");
    start(q);
  }

  for (;;) {
    bool any = false;
    for (auto const& [n, q] : queues_) any |= q.pid != 0;
    if (exiting_ && !any) break;
    // A queue waiting for its qmail-send is advertised within 0.1 s of it coming up.
    bool starting = false;
    for (auto const& [n, q] : queues_)
      if (QueueSlot* s = shm_.slot(n); s && q.pid && QState(s->state.load()) == QState::starting)
        starting = true;
    iopause_fd x = {sig_.fd(), IOPAUSE_READ, 0};
    wait_fds(&x, 1, starting ? 100 : 1000);
    int s;
    while ((s = sig_.next()) > 0) {
      if (s == SIGCHLD) {
        int st;
        pid_t pid;
        while ((pid = ::waitpid(-1, &st, WNOHANG)) > 0) on_exit(pid, st);
      } else if (s == SIGTERM || (s == SIGINT && o_.once)) {
        if (!exiting_) say("stopping every queue");
        exiting_ = true;
        for (auto& [n, q] : queues_) {
          q.stopping = true;
          q.restart_at = 0;
        }
        forward(SIGTERM);
      } else if (s == SIGHUP || s == SIGALRM) {
        forward(s);  // HUP: reread controls; ALRM: retry every deferred message now
      }
    }
    tick(::time(nullptr));
  }
  for (auto const& [n, q] : queues_) ::mq_unlink(mq_name(o_.base, n).c_str());
  Shm::remove(o_.base);
  say("every queue stopped; exiting");
  return ex::ok;
}

namespace {

std::string uptime(uint32_t since, uint32_t now) {
  if (!since || since > now) return "-";
  uint32_t s = now - since;
  char b[32];
  if (s >= 86400)
    snprintf(b, sizeof b, "%ud%02uh", s / 86400, s % 86400 / 3600);
  else if (s >= 3600)
    snprintf(b, sizeof b, "%uh%02um", s / 3600, s % 3600 / 60);
  else
    snprintf(b, sizeof b, "%um%02us", s / 60, s % 60);
  return b;
}

// "name pid, ..." of the children of pid (the daemons qmail-start forked).
std::string children_of(pid_t parent) {
  std::string out;
  DIR* d = ::opendir("/proc");
  if (!d) return out;
  while (struct dirent* e = ::readdir(d)) {
    uint64_t pid;
    if (!scan_u64(e->d_name, &pid)) continue;
    std::string stat;
    if (!read_file(("/proc/" + std::string(e->d_name) + "/stat").c_str(), &stat, 4096)) continue;
    size_t rp = stat.rfind(')');
    size_t lp = stat.find('(');
    if (rp == std::string::npos || lp == std::string::npos) continue;
    // after ") S ppid"
    size_t p = rp + 4;
    size_t sp = stat.find(' ', p);
    uint64_t ppid;
    if (sp == std::string::npos || !scan_u64(stat.substr(p, sp - p), &ppid)) continue;
    if (pid_t(ppid) != parent) continue;
    if (!out.empty()) out += ", ";
    out += stat.substr(lp + 1, rp - lp - 1) + " " + e->d_name;
  }
  ::closedir(d);
  return out;
}

}  // namespace

int list_queues(std::string const& base) {
  Shm shm;
  if (!shm.attach(base, false)) {
    write_all(2, "qscheduler: no qscheduler publishes queues for " + base + "\n");
    return 1;
  }
  Header const& h = shm.get()->h;
  uint32_t now = uint32_t(::time(nullptr));
  std::string out = "qscheduler pid " + fmt_u64(h.sched_pid.load()) + ", " +
                    (h.dynamic.load() ? "load-driven" : "static") + ", queues " +
                    fmt_u64(h.start.load()) + ".." + fmt_u64(h.start.load() + h.count.load() - 1) +
                    ", MAX_LOAD " + fmt_u64(h.max_load.load()) + "%\n";
  char line[256];
  snprintf(line, sizeof line, "%-6s %-9s %-7s %-8s %5s %7s %7s %6s %7s %7s  %s\n", "queue", "state",
           "send", "uptime", "load", "local", "remote", "todo", "queued", "backlog", "daemons");
  out += line;
  for (unsigned n = 1; n <= kMaxQueues; n++) {
    QueueSlot const* s = shm.slot(n);
    QState st = QState(s->state.load());
    if (st == QState::absent) continue;
    pid_t pid = pid_t(s->send_pid.load());
    std::string l = fmt_u64(s->lused.load()) + "/" + fmt_u64(s->lmax.load());
    std::string r = fmt_u64(s->rused.load()) + "/" + fmt_u64(s->rmax.load());
    snprintf(line, sizeof line, "%-6u %-9s %-7s %-8s %4u%% %7s %7s %6u %7u %7u  ", n, state_name(st),
             pid ? fmt_u64(uint64_t(pid)).c_str() : "-", uptime(s->start_time.load(), now).c_str(),
             load_of(*s), l.c_str(), r.c_str(), s->todo.load(), s->queued.load(), s->backlog.load());
    out += line;
    out += pid ? children_of(pid) : "-";
    out += "\n";
  }
  write_all(1, out);
  return 0;
}

}  // namespace qf::multi
