// ISC license.
#include "send/send.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <iterator>
#include <cstring>

#include "conf/control.h"
#include "conf/auto.h"
#include "conf/users.h"
#include "proto/todo.h"
#include "queue/envelope.h"
#include "queue/scan.h"
#include "queue/sweep.h"
#include "sys/exitcodes.h"
#include "sys/fs.h"

namespace qf::send {

using queue::Dir;

namespace {

constexpr int kChanOut[kChannels] = {1, 3};
constexpr int kChanIn[kChannels] = {2, 4};
constexpr Dir kChanDir[kChannels] = {Dir::local, Dir::remote};
constexpr size_t kMaxBouncers = 4;
constexpr size_t kMaxOpenRecipients = 200000;  // the leaky bucket, in recipients

bool exists(std::string const& p) {
  struct stat st;
  return ::lstat(p.c_str(), &st) == 0;
}

// The sender record of info/N and the file's mtime (the message's birth).
bool read_info(queue::Layout const& q, uint64_t id, std::string* sender, time_t* birth) {
  std::string fn = q.path(Dir::info, id), data;
  Fd fd(::open(fn.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.ok()) return false;
  struct stat st;
  if (::fstat(fd.get(), &st) < 0) return false;
  char buf[8192];
  ssize_t r;
  while ((r = ::read(fd.get(), buf, sizeof buf)) > 0) {
    data.append(buf, size_t(r));
    if (data.size() > (1 << 20)) break;
  }
  size_t nul = data.find('\0');
  if (nul == std::string::npos || data.empty() || data[0] != 'F') {
    errno = EINVAL;
    return false;
  }
  *sender = data.substr(1, nul - 1);
  *birth = st.st_mtime;
  return true;
}

}  // namespace

Send::Send(queue::Layout q) : q_(std::move(q)) {
  for (int c = 0; c < kChannels; c++) {
    chan_out_[c].attach(kChanOut[c]);
    reports_[c] = std::make_unique<spawn::ReportReader>([this, c](unsigned s) -> size_t {
      if (s >= slots_[c].size() || !slots_[c][s].used) return 0;
      return slots_[c][s].rcpts.size();
    });
  }
  if (char const* qi = getenv("QIDENT"); qi && *qi) qident_ = qi;
}

Send::~Send() = default;

std::string Send::did_text(uint64_t n) const {
  return qident_.empty() ? fmt_u64(n) : fmt_u64(n) + "." + qident_;
}

void Send::status() {
  log_.line(log_status(used_[kLocal], concurrency_[kLocal], used_[kRemote], concurrency_[kRemote]));
}

bool Send::read_controls(bool initial) {
  // Everything is read first and applied only when all of it could be read.
  uint64_t life, conc[kChannels];
  if (!conf::control_uint("queuelifetime", &life, 604800)) return false;
  if (!conf::control_uint("concurrencylocal", &conc[kLocal], 10)) return false;
  if (!conf::control_uint("concurrencyremote", &conc[kRemote], 20)) return false;
  std::string me;
  if (!conf::control_line("me", &me, "")) return false;
  if (me.empty() && !conf::control_exists("locals")) {
    errno = ENOENT;  // like qmail: no idea which domains are local, so no start
    return false;
  }
  Rewriter rw;
  BounceConfig bc;
  if (!rw.load() || !bc.load()) return false;
  lifetime_ = time_t(life);
  rw_ = std::move(rw);
  bcfg_ = std::move(bc);
  for (int c = 0; c < kChannels; c++) {
    uint64_t v = std::min<uint64_t>(conc[c], slots_max_[c]);
    concurrency_[c] = unsigned(v);
    // Slots only grow: a report for a slot beyond a lowered limit still lands.
    if (slots_[c].size() < v) slots_[c].resize(v);
  }
  (void)initial;
  return true;
}

bool Send::startup() {
  Fd m(::open(q_.lock("sendmutex").c_str(), O_WRONLY | O_CLOEXEC));
  if (!m.ok()) {
    log_.line("alert: cannot start: unable to open mutex");
    return false;
  }
  if (::flock(m.get(), LOCK_EX | LOCK_NB) < 0) {
    log_.line("alert: cannot start: qmail-send is already running");
    return false;
  }
  sendmutex_ = std::move(m);
  // Who holds the mutex, for qscheduler and the admin tools.
  std::string pid = fmt_u64(uint64_t(::getpid())) + "\n";
  if (::ftruncate(sendmutex_.get(), 0) < 0 || ::pwrite(sendmutex_.get(), pid.data(), pid.size(), 0) < 0)
    log_.line("warning: unable to write my pid to lock/sendmutex");
  // Under qscheduler: publish this queue's figures in the instance's segment.
  char const* base = getenv("QUEUE_BASE");
  uint64_t qn;
  if (base && *base && !qident_.empty() && scan_u64(qident_, &qn) && shm_.attach(base, true)) {
    slot_ = shm_.slot(unsigned(qn));
    if (slot_) {
      slot_->send_pid.store(uint32_t(::getpid()));
      slot_->start_time.store(uint32_t(::time(nullptr)));
    }
  }
  for (int c = 0; c < kChannels; c++) {
    unsigned char b[2];
    if (read_full(kChanIn[c], reinterpret_cast<char*>(b), 2) != 2) {
      log_.line("alert: cannot start: hath the daemon spawn no fire?");
      return false;
    }
    slots_max_[c] = unsigned(b[0]) | unsigned(b[1]) << 8;
  }
  if (!read_controls(true)) {
    log_.line(errno == ENOENT ? "alert: cannot start: neither control/me nor control/locals exists"
                              : "alert: cannot start: unable to read controls");
    return false;
  }
  for (int fd : {1, 3, 5, 7})
    if (!set_nonblock(fd)) {
      log_.line("alert: cannot start: unable to set up the spawner pipes");
      return false;
    }
  ::signal(SIGPIPE, SIG_IGN);
  // qscheduler forwards what it gets; these mean nothing to us (yet).
  for (int sg : {SIGINT, SIGUSR1, SIGUSR2}) ::signal(sg, SIG_IGN);
  if (!sig_.init({SIGTERM, SIGALRM, SIGHUP, SIGCHLD})) {
    log_.line("alert: cannot start: unable to trap signals");
    return false;
  }
  // qmail-start has already dropped us to qmails when it ran as root: any other
  // uid means the embedded default, where every daemon runs as the caller.
  conf::Account qs;
  if (!conf::find_user(conf::User::qmails, &qs) || qs.uid != ::getuid())
    log_.line("info: qfleet runs unprivileged: every daemon of this queue runs as uid " +
              fmt_u64(::getuid()));
  ::umask(077);
  scan_info();
  todo_out_.put(std::string(1, todo::kStart));
  next_cleanup_ = ::time(nullptr);
  status();
  return true;
}

// At start-up every pre-processed message is put back on its channels' queues;
// the mtime of a channel file is its next retry time. A todo/ still present
// means pre-processing did not finish: todo-proc redoes it, so such ids are
// skipped. One readdir per directory and one fstatat per channel file.
void Send::scan_info() {
  std::vector<uint64_t> todo = queue::list_ids(q_, Dir::todo);
  time_t now = ::time(nullptr);
  for (unsigned b = 0; b < q_.split(); b++) {
    std::string dir = q_.subdir(Dir::info, b);
    DIR* d = ::opendir(dir.c_str());
    if (!d) {
      log_.line("alert: unable to opendir " + dir + ", skipping it until restart");
      continue;
    }
    Fd chan[kChannels];
    for (int c = 0; c < kChannels; c++) chan[c].reset(open_dir(q_.subdir(kChanDir[c], b).c_str()));
    while (struct dirent* e = ::readdir(d)) {
      uint64_t id;
      if (!scan_u64(e->d_name, &id) || std::binary_search(todo.begin(), todo.end(), id)) continue;
      bool any = false, trouble = false;
      for (int c = 0; c < kChannels; c++) {
        struct stat st;
        if (chan[c].ok() && ::fstatat(chan[c].get(), e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
          due_[c].push(id, st.st_mtime);
          any = true;
        } else if (!chan[c].ok() || errno != ENOENT) {
          trouble = true;
        }
      }
      if (trouble) {
        log_.line("warning: unable to stat the channel files of " + fmt_u64(id) +
                  "; will try again later");
        done_timers_.emplace(now + kSysfail, id);
      } else if (!any) {
        done_timers_.emplace(now, id);
      }
    }
    ::closedir(d);
  }
}

void Send::open_due(time_t now) {
  size_t open_rcpts = 0;
  for (auto const& [k, j] : jobs_) open_rcpts += j->rcpts.size() - j->next;
  for (int c = 0; c < kChannels; c++) {
    // Keep enough jobs open to fill the slots, not the whole queue (leaky bucket).
    size_t want = std::max<size_t>(size_t(concurrency_[c]) * 2, 16);
    while (open_jobs_[c] < want && open_rcpts < kMaxOpenRecipients) {
      bool f = !fresh_[c].empty() && fresh_[c].next_due() <= now;
      bool d = !due_[c].empty() && due_[c].next_due() <= now;
      if (!f && !d) break;
      // One from each in turn while both have work (Postfix's qmgr_loop).
      DueQueue& q = f && (fresh_turn_[c] || !d) ? fresh_[c] : due_[c];
      fresh_turn_[c] = &q != &fresh_[c];
      uint64_t id = q.pop();
      if (jobs_.count(key(id, Channel(c)))) continue;  // already open
      // A job with nothing left to deliver is closed at once (a crash after
      // its last done mark): it is no longer in jobs_.
      if (open_job(id, Channel(c), now))
        if (auto it = jobs_.find(key(id, Channel(c))); it != jobs_.end()) open_rcpts += it->second->rcpts.size();
    }
  }
}

bool Send::open_job(uint64_t id, Channel c, time_t now) {
  std::string fn = q_.path(kChanDir[c], id);
  auto j = std::make_unique<Job>();
  j->id = id;
  j->ch = c;
  j->file.reset(::open(fn.c_str(), O_RDWR | O_CLOEXEC | O_NOFOLLOW));
  if (!j->file.ok()) {
    if (errno == ENOENT) {  // finished meanwhile (a duplicate entry)
      channel_done(id, c);
      return false;
    }
    log_.line("warning: trouble opening " + fn + "; will try again later");
    due_[c].push(id, now + kSysfail);
    return false;
  }
  if (!read_info(q_, id, &j->sender, &j->birth)) {
    log_.line("warning: trouble opening " + q_.path(Dir::info, id) + "; will try again later");
    due_[c].push(id, now + kSysfail);
    return false;
  }
  std::string data;
  char buf[1 << 16];
  ssize_t r;
  while ((r = ::read(j->file.get(), buf, sizeof buf)) > 0) data.append(buf, size_t(r));
  if (r < 0) {
    log_.line("warning: trouble reading " + fn + "; will try again later");
    due_[c].push(id, now + kSysfail);
    return false;
  }
  if (!parse_channel_file(data, &j->rcpts)) {
    log_.line("warning: unknown record type in " + fn + "! will try again later");
    due_[c].push(id, now + kSysfail * 10);
    return false;
  }
  if (c == kRemote) group_by_domain(&j->rcpts);
  j->dying = now > j->birth + lifetime_;
  uint64_t k = key(id, c);
  bool empty = j->rcpts.empty();
  jobs_[k] = std::move(j);
  open_jobs_[c]++;
  if (empty)
    close_job(k);
  else
    ready_[c].push_back(k);
  return true;
}

void Send::dispatch() {
  for (int c = 0; c < kChannels; c++) {
    if (!spawn_alive_[c]) continue;
    while (used_[c] < concurrency_[c] && !ready_[c].empty()) {
      uint64_t k = ready_[c].front();
      ready_[c].pop_front();
      auto it = jobs_.find(k);
      if (it == jobs_.end()) continue;
      Job& j = *it->second;
      bool verp = j.sender.size() >= 4 && j.sender.compare(j.sender.size() - 4, 4, "-@[]") == 0;
      size_t n = next_batch(j.rcpts, j.next, j.ch, verp ? 1 : kRemoteBatch);
      if (!n) continue;
      unsigned s = 0;
      while (s < slots_[c].size() && slots_[c][s].used) s++;
      if (s == slots_[c].size()) {
        ready_[c].push_front(k);
        break;
      }
      Slot& slot = slots_[c][s];
      slot.used = true;
      slot.job = k;
      slot.rcpts.clear();
      slot.dids.clear();
      spawn::Command cmd;
      cmd.slot = s;
      cmd.id = j.id;
      cmd.sender = verp_sender(j.sender, j.rcpts[j.next].addr);
      for (size_t i = 0; i < n; i++) {
        size_t r = j.next + i;
        slot.rcpts.push_back(r);
        slot.dids.push_back(did_text(next_did_++));
        cmd.rcpts.push_back(j.rcpts[r].addr);
        log_.line(log_starting(slot.dids.back(), j.id, c == kLocal, j.rcpts[r].addr));
      }
      j.next += n;
      j.inflight++;
      used_[c]++;
      std::string wire;
      spawn::encode(cmd, &wire);
      chan_out_[c].put(wire);
      status();
      if (j.next < j.rcpts.size()) ready_[c].push_back(k);
    }
  }
}

void Send::mark_done(Job& j, size_t r) {
  if (::pwrite(j.file.get(), "D", 1, off_t(j.rcpts[r].offset)) != 1)
    log_.line("warning: trouble marking " + q_.path(kChanDir[j.ch], j.id) +
              "; message will be delivered twice!");
}

void Send::on_report(Channel c, unsigned s, std::vector<spawn::Result>& results) {
  Slot& slot = slots_[c][s];
  auto it = jobs_.find(slot.job);
  if (it == jobs_.end()) {
    log_.line("warning: internal error: delivery report out of range");
    slot.used = false;
    used_[c]--;
    return;
  }
  Job& j = *it->second;
  for (size_t i = 0; i < results.size() && i < slot.rcpts.size(); i++) {
    spawn::Result& res = results[i];
    size_t r = slot.rcpts[i];
    if (res.status == 'Z' && j.dying) {
      res.status = 'D';
      res.text += "I'm not going to try again; this message has been in the queue too long.\n";
    }
    switch (res.status) {
      case 'K':
        log_.line(log_result(slot.dids[i], 'K', res.text));
        mark_done(j, r);
        break;
      case 'D': {
        log_.line(log_result(slot.dids[i], 'D', res.text));
        std::string rec = bounce_record(rw_.strip_virtual_prefix(j.rcpts[r].addr), res.text);
        if (!bounce_append(q_, j.id, rec)) {
          log_.line(std::string("alert: unable to append to bounce message: ") + strerror(errno) +
                    "; will try again later");
          j.deferred = true;
          break;
        }
        mark_done(j, r);
        break;
      }
      case 'Z':
        log_.line(log_result(slot.dids[i], 'Z', res.text));
        j.deferred = true;
        break;
      default:
        log_.line(log_result(slot.dids[i], res.status, res.text));
        j.deferred = true;
    }
  }
  slot.used = false;
  used_[c]--;
  j.inflight--;
  delivered_ += results.size();
  status();
  if (j.inflight == 0 && j.next >= j.rcpts.size()) close_job(slot.job);
}

void Send::close_job(uint64_t k) {
  auto it = jobs_.find(k);
  if (it == jobs_.end()) return;
  std::unique_ptr<Job> j = std::move(it->second);
  jobs_.erase(it);
  open_jobs_[j->ch]--;
  std::string fn = q_.path(kChanDir[j->ch], j->id);
  time_t now = ::time(nullptr);
  if (j->deferred) {
    time_t next = retry_.next(j->ch, j->birth, now);
    struct timeval tv[2] = {{next, 0}, {next, 0}};
    if (::futimes(j->file.get(), tv) < 0)
      log_.line("warning: unable to utime " + fn + "; message will be retried too soon");
    due_[j->ch].push(j->id, next);
    return;
  }
  if (::unlink(fn.c_str()) < 0 && errno != ENOENT) {
    log_.line("warning: unable to unlink " + fn + "; will try again later");
    due_[j->ch].push(j->id, now + kSysfail);
    return;
  }
  channel_done(j->id, j->ch);
}

void Send::channel_done(uint64_t id, Channel c) {
  Channel other = c == kLocal ? kRemote : kLocal;
  if (jobs_.count(key(id, other))) return;  // the other channel will finish it
  std::string fn = q_.path(kChanDir[other], id);
  struct stat st;
  if (::stat(fn.c_str(), &st) == 0) return;  // more to do on the other channel
  if (errno != ENOENT) {
    log_.line("warning: unable to stat " + fn + "; will try again later");
    done_timers_.emplace(::time(nullptr) + kSysfail, id);
    return;
  }
  finish(id);
}

void Send::finish(uint64_t id) {
  time_t now = ::time(nullptr);
  for (int c = 0; c < kChannels; c++)
    if (jobs_.count(key(id, Channel(c))) || exists(q_.path(kChanDir[c], id))) return;
  if (exists(q_.path(Dir::todo, id))) return;
  std::string bfn = q_.path(Dir::bounce, id);
  if (exists(bfn)) {
    // The sender (info/N) matters only for a bounce.
    std::string sender;
    time_t birth;
    if (!read_info(q_, id, &sender, &birth)) {
      if (errno == ENOENT) return;
      log_.line("warning: unable to read " + q_.path(Dir::info, id) + "; will try again later");
      done_timers_.emplace(now + kSysfail, id);
      return;
    }
    if (bounce_kind(sender) == BounceKind::discard) {
      log_.line("triple bounce: discarding bounce/" + fmt_u64(id));
      if (::unlink(bfn.c_str()) < 0) {
        log_.line("warning: unable to unlink " + bfn);
        done_timers_.emplace(now + kSysfail, id);
        return;
      }
    } else {
      if (std::find(bounce_wait_.begin(), bounce_wait_.end(), id) != bounce_wait_.end()) return;
      for (auto const& [pid, bid] : children_)
        if (bid == id) return;
      if (children_.size() < kMaxBouncers)
        start_bounce(id, sender);
      else
        bounce_wait_.push_back(id);
      return;
    }
  }
  finish_after_bounce(id);
}

void Send::finish_after_bounce(uint64_t id) {
  log_.line(log_end_msg(id));
  std::string ifn = q_.path(Dir::info, id);
  if (::unlink(ifn.c_str()) < 0 && errno != ENOENT) {
    log_.line("warning: unable to unlink " + ifn + "; will try again later");
    done_timers_.emplace(::time(nullptr) + kSysfail, id);
    return;
  }
  std::string req = "foop/" + fmt_u64(id);
  req.push_back('\0');
  clean_out_.put(req);
  clean_wait_.push_back(id);
}

void Send::start_bounce(uint64_t id, std::string const& sender) {
  int p[2];
  if (::pipe2(p, O_CLOEXEC) < 0) {
    log_.line("warning: unable to start qmail-queue, will try later");
    done_timers_.emplace(::time(nullptr) + kSysfail, id);
    return;
  }
  pid_t pid = ::fork();
  if (pid < 0) {
    ::close(p[0]);
    ::close(p[1]);
    log_.line("warning: unable to start qmail-queue, will try later");
    done_timers_.emplace(::time(nullptr) + kSysfail, id);
    return;
  }
  if (pid == 0) {
    SignalPipe::undo_in_child();
    ::close(p[0]);
    // Our fds 0-9 are the daemons' pipes: the injector must not keep them open.
    for (int fd = 0; fd <= 9; fd++) ::fcntl(fd, F_SETFD, FD_CLOEXEC);
    pid_t qp = 0;
    int code = bounce_inject(q_, id, sender, bcfg_, ::time(nullptr), &qp);
    std::string out = fmt_u64(uint64_t(qp)) + " " + fmt_u64(uint64_t(code)) + "\n";
    write_all(p[1], out);
    _exit(0);
  }
  ::close(p[1]);
  set_nonblock(p[0]);
  bouncers_.push_back({id, Fd(p[0]), {}});
  children_[pid] = id;
}

void Send::bounce_output(size_t i) {
  Bouncer& b = bouncers_[i];
  ssize_t r = read_some(b.pipe.get(), &b.out, 256);
  if (r > 0 || (r < 0 && errno == EAGAIN)) return;
  // EOF: the child is done; its verdict is "qp code".
  uint64_t id = b.id, qp = 0, code = 111;
  size_t sp = b.out.find(' ');
  bool ok = sp != std::string::npos && scan_u64(b.out.substr(0, sp), &qp) &&
            scan_u64(b.out.substr(sp + 1, b.out.size() - sp - 2), &code);
  bouncers_.erase(bouncers_.begin() + long(i));
  if (!ok || code != 0) {
    log_.line("warning: trouble injecting bounce message, will try later");
    done_timers_.emplace(::time(nullptr) + kSysfail, id);
  } else {
    log_.line(log_bounce_msg(id, qp));
    std::string bfn = q_.path(Dir::bounce, id);
    if (::unlink(bfn.c_str()) < 0 && errno != ENOENT) {
      log_.line("warning: unable to unlink " + bfn);
      done_timers_.emplace(::time(nullptr) + kSysfail, id);
    } else {
      finish_after_bounce(id);
    }
  }
}

void Send::reap_children() {
  int st;
  pid_t pid;
  while ((pid = ::waitpid(-1, &st, WNOHANG)) > 0) children_.erase(pid);
  while (!bounce_wait_.empty() && children_.size() < kMaxBouncers) {
    uint64_t id = bounce_wait_.front();
    bounce_wait_.pop_front();
    finish(id);
  }
}

void Send::run_timers(time_t now) {
  while (!done_timers_.empty() && done_timers_.begin()->first <= now) {
    uint64_t id = done_timers_.begin()->second;
    done_timers_.erase(done_timers_.begin());
    finish(id);
  }
  while (!clean_timers_.empty() && clean_timers_.begin()->first <= now) {
    uint64_t id = clean_timers_.begin()->second;
    clean_timers_.erase(clean_timers_.begin());
    std::string req = "foop/" + fmt_u64(id);
    req.push_back('\0');
    clean_out_.put(req);
    clean_wait_.push_back(id);
  }
}

// Leftovers: messages in S2/S3 (mess/ without info/ or todo/) that no
// injector holds. The candidates come from three directory listings, so the
// sweep costs a readdir per directory, not a probe per queued message.
void Send::cleanup_step(time_t now) {
  if (cleanup_pos_ >= cleanup_ids_.size()) {
    if (now < next_cleanup_) return;
    // mess minus info minus todo, in place: memory for two id lists at most.
    cleanup_ids_ = queue::list_ids(q_, Dir::mess);
    for (Dir d : {Dir::info, Dir::todo}) {
      std::vector<uint64_t> busy = queue::list_ids(q_, d);
      auto out = cleanup_ids_.begin();
      auto b = busy.begin();
      for (uint64_t id : cleanup_ids_) {
        while (b != busy.end() && *b < id) ++b;
        if (b == busy.end() || *b != id) *out++ = id;
      }
      cleanup_ids_.erase(out, cleanup_ids_.end());
    }
    cleanup_ids_.shrink_to_fit();
    cleanup_pos_ = 0;
    next_cleanup_ = now + kCleanupInterval;
  }
  for (int i = 0; i < 100 && cleanup_pos_ < cleanup_ids_.size(); i++) {
    uint64_t id = cleanup_ids_[cleanup_pos_++];
    if (!queue::reclaimable(q_, id, now)) continue;
    std::string req = "foop/" + fmt_u64(id);
    req.push_back('\0');
    clean_out_.put(req);
    clean_wait_.push_back(id);
  }
}

void Send::todo_record(std::string_view rec) {
  if (rec.empty()) return;
  switch (rec[0]) {
    case todo::kDone: {
      uint64_t id;
      if (rec.size() < 3 || !scan_u64(rec.substr(2), &id)) {
        log_.line("warning: todo-proc sent a mangled report");
        return;
      }
      if (exitasap_) return;  // found again at the next start
      time_t now = ::time(nullptr);
      char k = rec[1];
      if (k == 'L' || k == 'B') fresh_[kLocal].push(id, now);
      if (k == 'R' || k == 'B') fresh_[kRemote].push(id, now);
      if (k == 'X') done_timers_.emplace(now, id);
      break;
    }
    case todo::kLog: log_.line(rec.substr(1)); break;
    case todo::kTrigger:
      if (rec.size() > 1 && rec[1] == 'A')
        for (auto& d : due_) d.all_due(::time(nullptr));
      break;
    case todo::kExiting:
      todo_alive_ = false;
      if (!exitasap_) lost("todo-proc");
      break;
    default: log_.line("warning: qmail-send unable to understand todo-proc: report mangled");
  }
}

void Send::clean_answers(std::string_view bytes) {
  for (char c : bytes) {
    if (clean_wait_.empty()) break;
    uint64_t id = clean_wait_.front();
    clean_wait_.pop_front();
    if (c != '+') {
      // Asked again later (ALRM: now); a removal must not be left to the
      // next day's sweep.
      log_.line("warning: qmail-clean unable to clean up foop/" + fmt_u64(id) + "; will try again later");
      clean_timers_.emplace(::time(nullptr) + kSysfail, id);
    }
  }
}

void Send::lost(char const* what) {
  log_.line(std::string("alert: oh no! lost ") + what + " connection! dying...");
  exitasap_ = true;
  exitcode_ = ex::temp;
}

void Send::publish(time_t now) {
  if (!slot_) return;
  size_t queued = due_[kLocal].size() + due_[kRemote].size() + fresh_[kLocal].size() +
                  fresh_[kRemote].size();
  size_t backlog = 0;
  for (int c = 0; c < kChannels; c++)
    if (used_[c] >= concurrency_[c])
      for (uint64_t k : ready_[c]) {
        auto it = jobs_.find(k);
        if (it != jobs_.end()) backlog += it->second->rcpts.size() - it->second->next;
      }
  slot_->lused.store(used_[kLocal], std::memory_order_relaxed);
  slot_->lmax.store(concurrency_[kLocal], std::memory_order_relaxed);
  slot_->rused.store(used_[kRemote], std::memory_order_relaxed);
  slot_->rmax.store(concurrency_[kRemote], std::memory_order_relaxed);
  slot_->queued.store(uint32_t(std::min<size_t>(queued, UINT32_MAX)), std::memory_order_relaxed);
  slot_->backlog.store(uint32_t(std::min<size_t>(backlog, UINT32_MAX)), std::memory_order_relaxed);
  slot_->delivered.store(delivered_, std::memory_order_relaxed);
  slot_->heartbeat.store(uint32_t(now), std::memory_order_release);
}

bool Send::can_exit() const {
  for (int c = 0; c < kChannels; c++)
    if (spawn_alive_[c] && used_[c]) return false;
  if (!bouncers_.empty()) return false;
  if (clean_alive_ && (!clean_wait_.empty() || clean_out_.pending())) return false;
  return !todo_alive_;
}

int Send::run() {
  if (!startup()) {
    log_.flush();
    return ex::temp;
  }
  bool x_sent = false;
  for (;;) {
    time_t now = ::time(nullptr);
    if (exitasap_ && !x_sent) {
      if (todo_alive_) todo_out_.put(std::string(1, todo::kExit));
      x_sent = true;
    }
    if (exitasap_ && can_exit()) break;
    if (!exitasap_) {
      open_due(now);
      dispatch();
      run_timers(now);
      if (clean_alive_) cleanup_step(now);
    }
    for (int c = 0; c < kChannels; c++)
      if (spawn_alive_[c] && !chan_out_[c].flush()) {
        spawn_alive_[c] = false;
        lost("spawn");
      }
    if (clean_alive_ && !clean_out_.flush()) {
      clean_alive_ = false;
      lost("qmail-clean");
    }
    if (todo_alive_ && !todo_out_.flush()) {
      todo_alive_ = false;
      if (!exitasap_) lost("todo-proc");
    }

    publish(now);

    // What to wait for, and until when.
    std::vector<iopause_fd> x;
    std::vector<int> what;  // -1 sig, 0..1 chan in, 2..3 chan out, 4 clean in, 5 clean out, 6 todo in, 7 todo out, 100+i bouncer
    auto add = [&](int fd, short ev, int w) {
      x.push_back({fd, ev, 0});
      what.push_back(w);
    };
    add(sig_.fd(), IOPAUSE_READ, -1);
    for (int c = 0; c < kChannels; c++) {
      if (!spawn_alive_[c]) continue;
      add(kChanIn[c], IOPAUSE_READ, c);
      if (chan_out_[c].pending()) add(kChanOut[c], IOPAUSE_WRITE, 2 + c);
    }
    if (clean_alive_) {
      add(6, IOPAUSE_READ, 4);  // always: an EOF says qmail-clean died
      if (clean_out_.pending()) add(5, IOPAUSE_WRITE, 5);
    }
    if (todo_alive_) {
      add(8, IOPAUSE_READ, 6);
      if (todo_out_.pending()) add(7, IOPAUSE_WRITE, 7);
    }
    for (size_t i = 0; i < bouncers_.size(); i++) add(bouncers_[i].pipe.get(), IOPAUSE_READ, 100 + int(i));

    time_t wake = now + 86400;
    if (!exitasap_) {
      for (int c = 0; c < kChannels; c++) {
        if (!due_[c].empty()) wake = std::min(wake, due_[c].next_due());
        if (!fresh_[c].empty()) wake = std::min(wake, fresh_[c].next_due());
        if (!ready_[c].empty() && used_[c] < concurrency_[c]) wake = now;
      }
      if (!done_timers_.empty()) wake = std::min(wake, done_timers_.begin()->first);
      if (!clean_timers_.empty()) wake = std::min(wake, clean_timers_.begin()->first);
      if (cleanup_pos_ < cleanup_ids_.size()) wake = now;
      else wake = std::min(wake, next_cleanup_);
    }
    if (slot_) wake = std::min(wake, now + 10);  // keep the heartbeat fresh when idle
    int64_t ms = wake <= now ? 0 : int64_t(wake - now) * 1000 + 10;
    log_.flush();
    if (wait_fds(x.data(), unsigned(x.size()), ms) < 0) {
      log_.line("warning: trouble in iopause");
      continue;
    }
    std::vector<size_t> bouncer_ready;
    for (size_t i = 0; i < x.size(); i++) {
      if (!x[i].revents) continue;
      int w = what[i];
      if (w == -1) {
        int s;
        while ((s = sig_.next()) > 0) {
          if (s == SIGTERM) exitasap_ = true;
          if (s == SIGALRM) {
            // Everything waiting for a retry, the clean-ups of finished
            // messages that failed with it.
            time_t t = ::time(nullptr);
            for (auto& d : due_) d.all_due(t);
            for (auto* m : {&done_timers_, &clean_timers_}) {
              std::multimap<time_t, uint64_t> timers;
              for (auto const& [when, id] : *m) timers.emplace(std::min(when, t), id);
              m->swap(timers);
            }
          }
          if (s == SIGHUP) {
            if (!read_controls(false)) log_.line("alert: unable to reread controls");
            if (todo_alive_) todo_out_.put(std::string(1, todo::kReread));
            status();
          }
          if (s == SIGCHLD) reap_children();
        }
      } else if (w == 0 || w == 1) {
        Channel c = Channel(w);
        std::string buf;
        ssize_t r = read_some(kChanIn[c], &buf);
        if (r == 0) {
          spawn_alive_[c] = false;
          lost("spawn");
          continue;
        }
        size_t pos = 0;
        while (pos < buf.size()) {
          size_t used;
          auto st = reports_[c]->feed(buf.data() + pos, buf.size() - pos, &used);
          pos += used;
          if (st == spawn::ReportReader::Status::report) {
            auto res = reports_[c]->take();
            on_report(c, reports_[c]->slot(), res);
          } else if (st == spawn::ReportReader::Status::bad) {
            log_.line("warning: internal error: delivery report out of range");
            spawn_alive_[c] = false;
            lost("spawn");
            break;
          }
        }
      } else if (w == 4) {
        std::string buf;
        ssize_t r = read_some(6, &buf, 4096);
        if (r == 0) {
          clean_alive_ = false;
          lost("qmail-clean");
        } else if (r > 0) {
          clean_answers(buf);
        }
      } else if (w == 6) {
        ssize_t r = read_some(8, &todo_in_);
        if (r == 0) {
          todo_alive_ = false;
          if (!exitasap_) lost("todo-proc");
        }
        size_t start = 0, nul;
        while ((nul = todo_in_.find('\0', start)) != std::string::npos) {
          todo_record(std::string_view(todo_in_).substr(start, nul - start));
          start = nul + 1;
        }
        todo_in_.erase(0, start);
        if (todo_in_.size() > 100000) todo_in_.clear();
      } else if (w >= 100) {
        bouncer_ready.push_back(size_t(w - 100));
      }
    }
    // Highest index first: bounce_output erases its entry.
    std::sort(bouncer_ready.rbegin(), bouncer_ready.rend());
    for (size_t i : bouncer_ready) bounce_output(i);
  }
  if (slot_) {
    slot_->lused.store(0);
    slot_->rused.store(0);
    slot_->send_pid.store(0);
  }
  log_.line("status: exiting");
  log_.flush();
  return exitcode_;
}

}  // namespace qf::send
