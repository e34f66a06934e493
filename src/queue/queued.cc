// ISC license.
#include "queue/queued.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <vector>

#include "multi/ipc.h"
#include "queue/envelope.h"
#include "queue/inject.h"
#include "queue/qq.h"
#include "queue/trigger.h"
#include "queue/wire.h"
#include "sys/exitcodes.h"
#include "sys/fd.h"
#include "sys/fs.h"
#include "sys/loop.h"

namespace qf::queue {

std::string inject_socket(std::string const& queuedir) { return queuedir + "/inject.sock"; }

namespace {

constexpr size_t kMaxConns = 256;
// One user's share of a worker: its connections beyond this are closed at
// once (the client then runs qmail-queue itself), so no user can take the
// socket from another (qmail-queued(8)).
constexpr size_t kMaxPerUid = kMaxConns / 4;
// A connection that has not started a message is dropped after this many
// seconds of silence, one inside a message after kIdleMessage.
constexpr time_t kIdleNew = 10;
constexpr time_t kIdleMessage = 300;

struct Conn {
  Fd fd;
  uid_t uid = 0;
  pid_t pid = 0;
  time_t last = 0;
  wire::Framer framer;
  EnvelopeParser parser;
  std::string env;        // u, p, then the records as read
  std::unique_ptr<Injection> inj;
  bool drain = false;     // counted in the worker's shared lock on lock/drain
  bool started = false;
  int err = 0;            // a code to answer once the message's bytes are consumed
  bool ready = false;     // complete, waiting for the batch commit
  bool closing = false;   // answered a fatal error: discard input until EOF
  std::string pending;    // bytes after a ready message: the next one's
  OutQueue out;
};

class Worker {
 public:
  Worker(Layout q, int listen_fd) : q_(std::move(q)), listen_(listen_fd) {
    char const* base = getenv("QUEUE_BASE");
    char const* qi = getenv("QIDENT");
    uint64_t n;
    if (base && *base && qi && scan_u64(qi, &n) && shm_.attach(base, false)) {
      base_ = base;
      number_ = unsigned(n);
    }
  }
  int run();

 private:
  void accept_some();
  void feed(Conn& c, char const* data, size_t n);
  void start_message(Conn& c);
  void finish_message(Conn& c);
  void answer(Conn& c, int code);
  void commit_ready();
  void tell_scheduler();
  void reset(Conn& c);

  Layout q_;
  int listen_;
  std::vector<std::unique_ptr<Conn>> conns_;
  multi::Shm shm_;
  std::string base_;
  unsigned number_ = 0;
  bool stop_ = false;
  Fd drain_fd_;               // lock/drain, opened once
  size_t drain_holders_ = 0;  // messages in hand under its shared lock
  // Committed this turn, for the scheduler once the answers are out.
  std::vector<uint64_t> committed_;
  bool pull_ = false;
};

void Worker::accept_some() {
  for (int i = 0; i < 64 && conns_.size() < kMaxConns; i++) {
    int fd = ::accept4(listen_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) return;
    auto c = std::make_unique<Conn>();
    c->fd.reset(fd);
    c->out.attach(fd);
    struct ucred cr;
    socklen_t len = sizeof cr;
    if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) < 0) continue;
    size_t mine = 0;
    for (auto const& o : conns_) mine += o->uid == cr.uid;
    if (mine >= kMaxPerUid) continue;  // closed without the greeting
    c->uid = cr.uid;
    c->pid = cr.pid;
    c->last = ::time(nullptr);
    // Greeted now, not after this turn's commits: the client waits for it.
    c->out.put(std::string(1, wire::kGreeting));
    c->out.flush();
    conns_.push_back(std::move(c));
  }
}

void Worker::start_message(Conn& c) {
  c.started = true;
  c.env.clear();
  put_record(&c.env, 'u', fmt_u64(c.uid));
  put_record(&c.env, 'p', fmt_u64(uint64_t(c.pid)));
  // A queue being drained takes no new message: the client picks another.
  // The worker holds one shared lock on lock/drain while any of its messages
  // is in hand (a drainer waits for all of them), taken when the first starts.
  if (drain_holders_ == 0) {
    if (!drain_fd_.ok()) drain_fd_.reset(::open(q_.lock("drain").c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
    if (drain_fd_.ok() && ::flock(drain_fd_.get(), LOCK_SH | LOCK_NB) < 0) {
      c.err = qq::queuedir;
      return;
    }
  }
  drain_holders_++;
  c.drain = true;
  time_t now = ::time(nullptr);
  c.inj = std::make_unique<Injection>(q_);
  if (!c.inj->create_message(c.pid, uint64_t(now))) {
    c.err = code_for(errno, c.inj->failed_in_pid() ? qq::pid : qq::mess);
    return;
  }
  std::string r = received_line(c.pid, c.uid, now);
  if (!write_all(c.inj->mess_fd(), r)) c.err = code_for(errno, qq::write);
}

void Worker::answer(Conn& c, int code) {
  c.out.put(fmt_u64(uint64_t(code)) + "\n");
  reset(c);
}

void Worker::reset(Conn& c) {
  c.framer.reset();
  c.parser = EnvelopeParser();
  c.env.clear();
  c.inj.reset();  // aborts an uncommitted injection: nothing left behind
  if (c.drain && --drain_holders_ == 0 && drain_fd_.ok()) ::flock(drain_fd_.get(), LOCK_UN);
  c.drain = false;
  c.started = false;
  c.err = 0;
  c.ready = false;
}

void Worker::finish_message(Conn& c) {
  if (c.err) {
    answer(c, c.err);
    return;
  }
  c.ready = true;  // committed with the others of this turn
}

void Worker::feed(Conn& c, char const* data, size_t n) {
  size_t pos = 0;
  while (pos < n && !c.ready && !c.closing) {
    if (!c.framer.in_envelope()) {
      size_t len;
      auto k = c.framer.next(data + pos, n - pos, &len);
      if (k == wire::Framer::Kind::bad) {
        answer(c, qq::read);
        c.closing = true;
        return;
      }
      if (!c.started && (k == wire::Framer::Kind::data || c.framer.in_envelope())) start_message(c);
      if (k == wire::Framer::Kind::data && !c.err && !write_all(c.inj->mess_fd(), data + pos, len))
        c.err = code_for(errno, qq::write);
      pos += len;
      continue;
    }
    size_t used;
    std::string scratch;
    auto st = c.parser.feed(data + pos, n - pos, &used, c.err ? &scratch : &c.env);
    pos += used;
    if (st == EnvelopeParser::Status::more) continue;
    if (st != EnvelopeParser::Status::done) {
      // No way to find where the message ends: answer, then drop the connection.
      answer(c, st == EnvelopeParser::Status::too_long ? qq::addr_too_long : qq::envelope);
      c.closing = true;
      return;
    }
    finish_message(c);
  }
  if (pos < n) c.pending.append(data + pos, n - pos);
}

// Every message complete in this turn is committed together: writeback of
// all their files starts first, then each is synced and linked into todo/.
void Worker::commit_ready() {
  std::vector<Conn*> ready;
  for (auto& c : conns_)
    if (c->ready) ready.push_back(c.get());
  if (ready.empty()) return;
  for (Conn* c : ready) {
    if (!c->inj->create_envelope()) {
      c->err = code_for(errno, qq::intd);
      continue;
    }
    if (!write_all(c->inj->intd_fd(), c->env)) {
      c->err = code_for(errno, qq::write);
      continue;
    }
  }
  bool dynamic = false, compat = false;
  if (shm_.get()) {
    dynamic = shm_.get()->h.dynamic.load() != 0;
    compat = shm_.get()->h.compat.load() != 0;
  }
  // The messages of this turn are made durable together (Injection::commit_together).
  std::vector<Conn*> go;
  std::vector<Injection*> injs;
  for (Conn* c : ready)
    if (!c->err) {
      go.push_back(c);
      injs.push_back(c->inj.get());
    }
  std::vector<int> errs;
  Injection::commit_together(injs, &errs);
  for (size_t i = 0; i < go.size(); i++)
    if (errs[i]) go[i]->err = commit_failure_code(*go[i]->inj, errs[i]);
  for (Conn* c : ready) {
    int code = c->err;
    if (!code) {
      if (dynamic) committed_.push_back(c->inj->id());
      if (!dynamic || compat) pull_ = true;
    }
    answer(*c, code);
  }
}

// After the answers of a turn are written: the clients are not kept waiting
// while the trigger wakes todo-proc (which may take the CPU from this worker).
// A message is durable before its answer, so the order changes nothing for it.
void Worker::tell_scheduler() {
  for (uint64_t id : committed_)
    if (!multi::notify(base_, number_, id)) pull_ = true;
  committed_.clear();
  if (pull_) pull_trigger(q_);
  pull_ = false;
}

int Worker::run() {
  SignalPipe sig;
  if (!sig.init({SIGTERM})) return ex::temp;
  ::signal(SIGPIPE, SIG_IGN);
  for (;;) {
    // Pending bytes of connections whose previous message was just answered.
    for (auto& c : conns_)
      if (!c->ready && !c->pending.empty() && !c->closing) {
        std::string p;
        p.swap(c->pending);
        feed(*c, p.data(), p.size());
      }
    commit_ready();
    time_t now = ::time(nullptr);
    // Flush answers; drop finished or silent connections.
    for (size_t i = 0; i < conns_.size();) {
      Conn& c = *conns_[i];
      bool dead = !c.out.flush();
      if (!dead && now - c.last > (c.started ? kIdleMessage : kIdleNew)) dead = true;
      if (dead) {
        reset(c);  // an unfinished message goes, and its share of the drain lock
        conns_.erase(conns_.begin() + long(i));
        continue;
      }
      i++;
    }
    tell_scheduler();
    bool idle = true;
    for (auto& c : conns_) idle &= !c->started && !c->ready && !c->out.pending();
    if (stop_ && idle) return ex::ok;

    std::vector<iopause_fd> x;
    x.push_back({sig.fd(), IOPAUSE_READ, 0});
    x.push_back({0, IOPAUSE_READ, 0});
    if (!stop_ && conns_.size() < kMaxConns) x.push_back({listen_, IOPAUSE_READ, 0});
    size_t first = x.size();
    for (auto& c : conns_) {
      short ev = 0;
      if (!c->ready) ev |= IOPAUSE_READ;
      if (c->out.pending()) ev |= IOPAUSE_WRITE;
      x.push_back({c->fd.get(), ev, 0});
    }
    // A connection whose next message is already here (pipelined behind the
    // one just answered) is served now, not at the next event.
    // Otherwise wake up when the first silent connection is due to go.
    int64_t wait_ms = 10000;
    for (auto& c : conns_) {
      if (!c->ready && !c->closing && !c->pending.empty()) wait_ms = 0;
      time_t due = c->last + (c->started ? kIdleMessage : kIdleNew) + 1;
      wait_ms = std::min<int64_t>(wait_ms, std::max<int64_t>(0, int64_t(due - now) * 1000));
    }
    if (wait_fds(x.data(), unsigned(x.size()), wait_ms) < 0) continue;
    if (x[0].revents)
      while (sig.next() > 0) stop_ = true;
    if (x[1].revents) {
      char b[64];
      if (::read(0, b, sizeof b) <= 0) stop_ = true;  // qmail-send is gone
    }
    if (!stop_ && first == 3 && x[2].revents) accept_some();
    // New connections were appended after the polled ones: only those have revents.
    size_t polled = x.size() - first;
    for (size_t i = 0; i < polled && i < conns_.size(); i++) {
      if (!(x[first + i].revents & (IOPAUSE_READ | IOPAUSE_EXCEPT))) continue;
      Conn& c = *conns_[i];
      char buf[1 << 16];
      ssize_t r = ::read(c.fd.get(), buf, sizeof buf);
      if (r < 0 && (errno == EAGAIN || errno == EINTR)) continue;
      if (r <= 0) {
        // The client went away: an unfinished message is abandoned (Injection
        // removes its files); the connection goes at the next flush.
        reset(c);
        c.closing = true;
        c.out.put("");
        ::shutdown(c.fd.get(), SHUT_RDWR);
        c.last = 0;
        continue;
      }
      c.last = ::time(nullptr);
      if (c.closing) continue;
      feed(c, buf, size_t(r));
    }
  }
}

}  // namespace

int run_queued(Layout const& q, unsigned workers) {
  ::umask(033);  // as qmail-queue: message and envelope files 0644, read by the other daemons
  std::string path = inject_socket(q.root());
  struct sockaddr_un sa;
  std::memset(&sa, 0, sizeof sa);
  sa.sun_family = AF_UNIX;
  if (path.size() >= sizeof sa.sun_path) return ex::perm;
  std::memcpy(sa.sun_path, path.c_str(), path.size());
  Fd s(::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!s.ok()) return ex::temp;
  ::unlink(path.c_str());  // a socket left by a predecessor
  if (::bind(s.get(), reinterpret_cast<struct sockaddr*>(&sa), sizeof sa) < 0) return ex::temp;
  // Anyone may inject, as anyone may run the setuid qmail-queue.
  if (::chmod(path.c_str(), 0777) < 0 || ::listen(s.get(), 256) < 0) return ex::temp;
  ::signal(SIGPIPE, SIG_IGN);
  std::vector<pid_t> kids(workers, 0);
  auto spawn = [&](size_t i) {
    pid_t p = ::fork();
    if (p == 0) {
      // A worker forked to replace a dead one inherits our signal set-up: it
      // starts from scratch (its own SignalPipe), or neither would see its signals.
      SignalPipe::undo_in_child();
      _exit(Worker(q, s.get()).run());
    }
    kids[i] = p;
  };
  for (size_t i = 0; i < kids.size(); i++) spawn(i);
  // Supervise: a worker that dies is replaced until fd 0 closes.
  SignalPipe sig;
  if (!sig.init({SIGCHLD, SIGTERM})) return ex::temp;
  bool stop = false;
  for (;;) {
    iopause_fd x[2] = {{sig.fd(), IOPAUSE_READ, 0}, {0, IOPAUSE_READ, 0}};
    wait_fds(x, stop ? 1 : 2, -1);
    if (x[1].revents && !stop) {
      char b[64];
      if (::read(0, b, sizeof b) <= 0) stop = true;
    }
    int sg;
    while ((sg = sig.next()) > 0)
      if (sg == SIGTERM) stop = true;
    if (stop)
      for (pid_t p : kids)
        if (p > 0) ::kill(p, SIGTERM);
    int st;
    pid_t p;
    while ((p = ::waitpid(-1, &st, WNOHANG)) > 0)
      for (size_t i = 0; i < kids.size(); i++)
        if (kids[i] == p) {
          kids[i] = 0;
          if (!stop) spawn(i);
        }
    bool any = false;
    for (pid_t k : kids) any |= k > 0;
    if (stop && !any) break;
  }
  ::unlink(path.c_str());
  return ex::ok;
}

}  // namespace qf::queue
