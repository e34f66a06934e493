// ISC license.
#include "remote/rspawn.h"


#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <deque>
#include <map>
#include <memory>

#include "addr/address.h"
#include "queue/message.h"
#include "remote/deliver.h"
#include "sys/exitcodes.h"
#include "sys/fd.h"
#include "sys/fs.h"
#include "sys/loop.h"
#include "sys/strerr.h"

namespace qf::remote {

namespace {

constexpr size_t kMaxFrame = 64 << 20;

std::string frame(char type, std::string_view payload) {
  std::string f;
  uint32_t n = uint32_t(payload.size() + 1);
  for (int i = 0; i < 4; i++) f.push_back(char(n >> (8 * i)));
  f.push_back(type);
  f.append(payload);
  return f;
}

// Takes one whole frame off the front of buf: 1 got one, 0 need more, -1 corrupt.
int take_frame(std::string* buf, char* type, std::string* payload) {
  if (buf->size() < 4) return 0;
  uint32_t n = 0;
  for (int i = 3; i >= 0; i--) n = n << 8 | (unsigned char)(*buf)[size_t(i)];
  if (n == 0 || n > kMaxFrame) return -1;
  if (buf->size() < 4 + size_t(n)) return 0;
  *type = (*buf)[4];
  payload->assign(*buf, 5, n - 1);
  buf->erase(0, 4 + size_t(n));
  return 1;
}

int64_t now_s() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec;
}

// ---- worker side ----

[[noreturn]] void worker_main(int sock, RspawnOptions const& o) {
  ConfigCache cfg;
  Deliverer d(o.queue.lock("tcpto"));
  std::string buf;
  for (;;) {
    char type;
    std::string payload;
    int t;
    while ((t = take_frame(&buf, &type, &payload)) == 0) {
      if (read_some(sock, &buf) <= 0) {  // the master is gone
        d.drop();
        _exit(0);
      }
    }
    if (t < 0) _exit(ex::temp);
    if (type == 'X') {
      d.drop();
      _exit(0);
    }
    if (type == 'Q') {
      d.drop();
      continue;
    }
    if (type != 'J') _exit(ex::temp);
    spawn::CommandReader reader;
    size_t used;
    if (reader.feed(payload.data(), payload.size(), &used) != spawn::CommandReader::Status::command)
      _exit(ex::temp);
    spawn::Command c = reader.take();
    std::vector<spawn::Result> results;
    spawn::Verdict v;
    deliver_command(c, o.queue, o.message_owner, &cfg, &d, &results, &v);
    std::string rep = d.cached_key();
    rep.push_back('\0');
    rep.push_back(char(v));
    for (auto const& r : results) {
      rep.push_back(r.status);
      for (char ch : r.text) rep.push_back(ch ? ch : ' ');
      rep.push_back('\0');
    }
    if (!write_all(sock, frame('R', rep))) _exit(0);
  }
}

// ---- master side ----

struct Worker {
  pid_t pid = 0;
  Fd sock;
  bool busy = false;
  unsigned slot = 0;
  size_t nrcpts = 0;
  std::string key;      // destination of its cached connection
  int64_t idle_since = 0;
  std::string in;
  std::string out;      // frames not yet written
  bool retiring = false;  // told to exit: gets no more work
};

class Master {
 public:
  explicit Master(RspawnOptions const& o) : o_(o) {}
  int run();

 private:
  void on_command(spawn::Command c);
  Worker* pick(std::string const& key);
  Worker* fork_worker();
  void send_job(Worker& w, spawn::Command const& c);
  void on_worker_input(Worker& w);
  void worker_lost(Worker& w, char const* why);
  void report(unsigned slot, spawn::Verdict v, std::vector<spawn::Result> const& res);
  void expire(int64_t now);
  void reap();

  RspawnOptions const& o_;
  ConfigCache cfg_;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::deque<spawn::Command> pending_;
  std::vector<bool> slot_busy_;
  SignalPipe sig_;
  bool input_open_ = true;
  bool output_broken_ = false;
};

void Master::report(unsigned slot, spawn::Verdict v, std::vector<spawn::Result> const& res) {
  if (slot < slot_busy_.size()) slot_busy_[slot] = false;
  std::string out;
  spawn::encode_report(slot, v, res, &out);
  if (!write_all(1, out)) output_broken_ = true;
}

Worker* Master::fork_worker() {
  int sv[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) return nullptr;
  pid_t pid = ::fork();
  if (pid < 0) {
    ::close(sv[0]);
    ::close(sv[1]);
    return nullptr;
  }
  if (pid == 0) {
    ::close(sv[0]);
    for (auto& w : workers_) ::close(w->sock.get());
    SignalPipe::undo_in_child();
    ::signal(SIGPIPE, SIG_IGN);
    int null = ::open("/dev/null", O_RDWR);
    if (null >= 0) {
      ::dup2(null, 0);
      ::dup2(null, 1);
      if (null > 2) ::close(null);
    }
    worker_main(sv[1], o_);
  }
  ::close(sv[1]);
  auto w = std::make_unique<Worker>();
  w->pid = pid;
  w->sock.reset(sv[0]);
  set_nonblock(sv[0]);
  w->idle_since = now_s();
  workers_.push_back(std::move(w));
  return workers_.back().get();
}

Worker* Master::pick(std::string const& key) {
  Worker* same = nullptr;
  Worker* fresh = nullptr;
  Worker* other = nullptr;
  for (auto& w : workers_) {
    if (w->busy || w->retiring || !w->sock.ok()) continue;
    if (!w->key.empty() && w->key == key) {
      if (!same || w->idle_since > same->idle_since) same = w.get();  // the warmest
    } else if (w->key.empty()) {
      fresh = w.get();
    } else if (!other || w->idle_since < other->idle_since) {
      other = w.get();  // the coldest connection gives way
    }
  }
  if (same) return same;
  if (fresh) return fresh;
  if (workers_.size() < o_.slots)
    if (Worker* w = fork_worker()) return w;
  return other;
}

void Master::send_job(Worker& w, spawn::Command const& c) {
  spawn::Command job = c;
  job.slot = 0;
  std::string payload;
  spawn::encode(job, &payload);
  w.out += frame('J', payload);
  w.busy = true;
  w.slot = c.slot;
  w.nrcpts = c.rcpts.size();
}

void Master::on_command(spawn::Command c) {
  if (c.slot >= slot_busy_.size()) {
    report(c.slot, spawn::Verdict::none, std::vector<spawn::Result>(
                       c.rcpts.size(), {'Z', "qmail-rspawn: delivery slot out of range. (#4.3.0)\n"}));
    return;
  }
  slot_busy_[c.slot] = true;
  if (!cfg_.refresh()) {
    report(c.slot, spawn::Verdict::none, std::vector<spawn::Result>(
                       c.rcpts.size(), {'Z', "Unable to read control files. (#4.3.0)\n"}));
    return;
  }
  std::string key = destination_key(cfg_.get(), addr::domain_of(c.rcpts[0]));
  Worker* w = pick(key);
  if (!w) {
    bool any_busy = false;
    for (auto& x : workers_) any_busy = any_busy || x->busy;
    if (!any_busy) {  // no worker will come free: fork(2) itself failed
      report(c.slot, spawn::Verdict::none, std::vector<spawn::Result>(
                         c.rcpts.size(), {'Z', "Unable to fork a delivery process. (#4.3.0)\n"}));
      return;
    }
    pending_.push_back(std::move(c));
    return;
  }
  send_job(*w, c);
}

void Master::worker_lost(Worker& w, char const* why) {
  if (w.busy) {
    std::string text = std::string("qmail-rspawn: delivery process ") + why + ". (#4.3.0)\n";
    // A worker that dies in a delivery crashed on it (qmail-send counts
    // these per message: poison); a broken protocol is our own trouble.
    spawn::Verdict v = std::string_view(why) == "died" ? spawn::Verdict::crash : spawn::Verdict::none;
    report(w.slot, v, std::vector<spawn::Result>(w.nrcpts, {'Z', text}));
  }
  ::kill(w.pid, SIGKILL);
  w.sock.reset();
}

void Master::on_worker_input(Worker& w) {
  ssize_t r = read_some(w.sock.get(), &w.in);
  if (r < 0 && (errno == EAGAIN || errno == EINTR)) return;
  if (r <= 0) return worker_lost(w, "died");
  char type;
  std::string payload;
  int t;
  while ((t = take_frame(&w.in, &type, &payload)) == 1) {
    if (type != 'R' || !w.busy) return worker_lost(w, "broke the protocol");
    size_t nul = payload.find('\0');
    if (nul == std::string::npos) return worker_lost(w, "broke the protocol");
    std::vector<spawn::Result> res;
    if (nul + 1 >= payload.size()) return worker_lost(w, "broke the protocol");
    spawn::Verdict v = spawn::Verdict(payload[nul + 1]);
    size_t i = nul + 2;
    while (i < payload.size() && res.size() < w.nrcpts) {
      size_t e = payload.find('\0', i);
      if (e == std::string::npos) break;
      res.push_back({payload[i], payload.substr(i + 1, e - i - 1)});
      i = e + 1;
    }
    if (res.size() != w.nrcpts) return worker_lost(w, "broke the protocol");
    w.key = payload.substr(0, nul);
    w.busy = false;
    w.idle_since = now_s();
    report(w.slot, v, res);
    if (!pending_.empty()) {
      spawn::Command c = std::move(pending_.front());
      pending_.pop_front();
      send_job(w, c);
    }
  }
  if (t < 0) worker_lost(w, "broke the protocol");
}

void Master::expire(int64_t now) {
  for (auto& w : workers_) {
    if (w->busy || w->retiring || !w->sock.ok()) continue;
    if (!w->key.empty() && now - w->idle_since >= int64_t(cfg_.get().cache_time)) {
      w->out += frame('Q', "");
      w->key.clear();
      w->idle_since = now;
    } else if (w->key.empty() && now - w->idle_since >= int64_t(o_.worker_idle)) {
      w->out += frame('X', "");
      w->retiring = true;
    }
  }
}

void Master::reap() {
  int st;
  while (::waitpid(-1, &st, WNOHANG) > 0) {
  }
}

int Master::run() {
  slot_busy_.assign(o_.slots, false);
  if (!write_all(1, spawn::encode_slots(o_.slots))) return ex::temp;
  ::signal(SIGPIPE, SIG_IGN);
  if (!sig_.init({SIGCHLD})) {
    warn_sys("unable to trap signals");
    return ex::temp;
  }
  if (!cfg_.refresh()) warn_sys("unable to read control files");
  spawn::CommandReader reader;
  std::string inbuf;
  for (;;) {
    // Workers told to exit whose frame is out are dropped; dead ones too.
    workers_.erase(std::remove_if(workers_.begin(), workers_.end(),
                                  [](auto const& w) { return !w->sock.ok(); }),
                   workers_.end());
    bool busy = false;
    for (auto& w : workers_) busy = busy || w->busy;
    if (!input_open_ && !busy && pending_.empty()) break;
    if (output_broken_) break;

    std::vector<struct pollfd> p;
    p.push_back({sig_.fd(), POLLIN, 0});
    p.push_back({input_open_ ? 0 : -1, POLLIN, 0});
    for (auto& w : workers_)
      p.push_back({w->sock.get(), short(POLLIN | (w->out.empty() ? 0 : POLLOUT)), 0});
    int64_t now = now_s();
    int64_t next = -1;
    for (auto& w : workers_) {
      if (w->busy || w->retiring) continue;
      int64_t due = w->idle_since + (w->key.empty() ? o_.worker_idle : cfg_.get().cache_time);
      if (next < 0 || due < next) next = due;
    }
    int timeout = next < 0 ? -1 : int(std::max<int64_t>(0, next - now) * 1000 + 10);
    int r = ::poll(p.data(), p.size(), timeout);
    if (r < 0 && errno != EINTR) {
      warn_sys("unable to poll");
      return ex::temp;
    }
    if (r > 0 && p[0].revents) {
      while (sig_.next() > 0) {
      }
      reap();
    }
    if (r > 0 && p[1].revents) {
      ssize_t n = read_some(0, &inbuf);
      if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) input_open_ = false;
      size_t pos = 0;
      while (pos < inbuf.size()) {
        size_t used;
        auto st = reader.feed(inbuf.data() + pos, inbuf.size() - pos, &used);
        pos += used;
        if (st == spawn::CommandReader::Status::bad) {
          warn("qmail-send sent a malformed command");
          return ex::perm;
        }
        if (st == spawn::CommandReader::Status::command) on_command(reader.take());
      }
      inbuf.clear();
    }
    size_t nw = p.size() - 2;  // the workers polled; those forked since come after
    for (size_t i = 0; i < nw && r > 0; i++) {
      Worker& w = *workers_[i];
      short rev = p[i + 2].revents;
      if (!rev || !w.sock.ok()) continue;
      if (rev & POLLOUT) {
        ssize_t wr = ::send(w.sock.get(), w.out.data(), w.out.size(), MSG_NOSIGNAL);
        if (wr > 0) w.out.erase(0, size_t(wr));
        else if (wr < 0 && errno != EAGAIN && errno != EINTR) {
          worker_lost(w, "died");
          continue;
        }
      }
      if (rev & (POLLIN | POLLHUP | POLLERR)) on_worker_input(w);
    }
    // Frames queued this turn go out now if the socket takes them.
    for (auto& w : workers_) {
      if (!w->sock.ok() || w->out.empty()) continue;
      ssize_t wr = ::send(w->sock.get(), w->out.data(), w->out.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
      if (wr > 0) w->out.erase(0, size_t(wr));
    }
    for (auto& w : workers_)
      if (w->retiring && w->out.empty()) w->sock.reset();  // it exits; reap() collects it
    expire(now_s());
  }
  for (auto& w : workers_) w->sock.reset();  // workers see EOF and exit
  for (auto& w : workers_) {
    int st;
    ::waitpid(w->pid, &st, 0);
  }
  return output_broken_ ? ex::temp : ex::ok;
}

}  // namespace

void deliver_command(spawn::Command const& c, queue::Layout const& q, uid_t owner,
                     ConfigCache* cfg, Deliverer* d, std::vector<spawn::Result>* results,
                     spawn::Verdict* verdict) {
  results->assign(c.rcpts.size(), {'Z', ""});
  *verdict = spawn::Verdict::none;
  if (!cfg->refresh()) {
    for (auto& r : *results) r.text = "Unable to read control files. (#4.3.0)\n";
    return;
  }
  std::string why;
  Fd fd;
  if (!queue::open_message(q, c.id, owner, &fd, &why)) why += "\n";
  MessageSource msg;
  msg.fd = fd.get();
  if (fd.ok() && !msg.scan()) why = std::string("Unable to read message: ") + strerror(errno) + ". (#4.3.0)\n";
  if (!fd.ok() || !why.empty()) {
    for (auto& r : *results) r.text = why;
    return;
  }
  *verdict = spawn::Verdict::ok;
  // qmail-send gives one domain per command; group anyway, keeping the order.
  std::vector<bool> done(c.rcpts.size(), false);
  for (size_t i = 0; i < c.rcpts.size(); i++) {
    if (done[i]) continue;
    std::string dom = addr::domain_of(c.rcpts[i]);
    std::vector<size_t> idx;
    std::vector<std::string> group;
    for (size_t j = i; j < c.rcpts.size(); j++)
      if (!done[j] && addr::domain_of(c.rcpts[j]) == dom) {
        idx.push_back(j);
        group.push_back(c.rcpts[j]);
        done[j] = true;
      }
    Outcome o;
    d->deliver(cfg->get(), dom, msg, c.sender, group, &o);
    if (o.site_failure) *verdict = spawn::Verdict::site;
    auto res = per_recipient(o);
    for (size_t k = 0; k < idx.size(); k++) (*results)[idx[k]] = res[k];
  }
}

int rspawn(RspawnOptions const& o) {
  Master m(o);
  return m.run();
}

}  // namespace qf::remote
