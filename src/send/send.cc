// ISC license.
#include "send/send.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <iterator>

#include "addr/address.h"
#include "conf/control.h"
#include "conf/users.h"
#include "proto/todo.h"
#include "queue/hold.h"
#include "queue/scan.h"
#include "queue/status.h"
#include "queue/sweep.h"
#include "send/settings.h"
#include "sys/exitcodes.h"
#include "sys/fs.h"
#include "sys/groupsync.h"

namespace qf::send {

using queue::Dir;

namespace {

constexpr int kChanOut[kChannels] = {1, 3};
constexpr int kChanIn[kChannels] = {2, 4};
constexpr Dir kChanDir[kChannels] = {Dir::local, Dir::remote};
constexpr size_t kMaxBouncers = 4;

uint64_t key(uint64_t id, Channel c) { return id * 2 + uint64_t(c); }

bool exists(std::string const& p) {
  struct stat st;
  return ::lstat(p.c_str(), &st) == 0;
}

// The sender record of info/N and the file's mtime (the message's birth);
// *warned: its delay warning was sent (the file lost its owner's write bit).
// errno EINVAL: the file is not an info file.
bool read_info(queue::Layout const& q, uint64_t id, std::string* sender, time_t* birth,
               bool* warned = nullptr) {
  std::string fn = q.path(Dir::info, id), data;
  Fd fd(::open(fn.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (!fd.ok()) return false;
  struct stat st;
  if (::fstat(fd.get(), &st) < 0) return false;
  char buf[8192];
  ssize_t r;
  while ((r = ::read(fd.get(), buf, sizeof buf)) > 0) {
    data.append(buf, size_t(r));
    if (data.size() > (1 << 20)) break;
  }
  if (r < 0) return false;
  *birth = st.st_mtime;
  if (warned) *warned = !(st.st_mode & S_IWUSR);
  size_t nul = data.find('\0');
  if (nul == std::string::npos || data.empty() || data[0] != 'F') {
    errno = EINVAL;
    return false;
  }
  *sender = data.substr(1, nul - 1);
  return true;
}

}  // namespace

Send::Send(queue::Layout q) : q_(std::move(q)) {
  if (char const* qi = getenv("QIDENT"); qi && *qi) qident_ = qi;
  if (char const* qp = getenv("QMAILQUEUED_PID"); qp && *qp) queued_pid_ = pid_t(std::atol(qp));
  uint64_t seed = uint64_t(::getpid()) * 2654435761u ^ uint64_t(::time(nullptr));
  core_ = std::make_unique<Core>(Settings::defaults(), static_cast<Port*>(this), qident_.empty() ? "" : "." + qident_, seed);
  for (int c = 0; c < kChannels; c++) {
    chan_out_[c].attach(kChanOut[c]);
    reports_[c] = std::make_unique<spawn::ReportReader>(
        [this, c](unsigned s) -> size_t { return core_->expected(Channel(c), s); });
  }
}

Send::~Send() = default;

void Send::status() {
  unsigned now[4] = {core_->in_flight(kLocal), core_->concurrency(kLocal), core_->in_flight(kRemote),
                     core_->concurrency(kRemote)};
  if (std::equal(now, now + 4, last_status_)) return;
  std::copy(now, now + 4, last_status_);
  log_.line(log_status(now[0], now[1], now[2], now[3]));
}

bool Send::read_controls() {
  // Everything is read first and applied only when all of it could be read.
  Settings s;
  std::string bad;
  if (!load_settings(&s, &bad)) return false;
  std::string me;
  if (!conf::control_line("me", &me, "")) return false;
  if (me.empty() && !conf::control_exists("locals")) {
    errno = ENOENT;  // like qmail: no idea which domains are local, so no start
    return false;
  }
  addr::Rewriter rw;
  BounceConfig bc;
  if (!rw.load() || !bc.load()) return false;
  bc.lifetime = s.maximal_queue_lifetime;
  rw_ = std::move(rw);
  bcfg_ = std::move(bc);
  core_->configure(std::move(s));
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
    core_->set_slots(Channel(c), slots_max_[c]);
  }
  if (!read_controls()) {
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
  // A queue made before queue-fix set synchronous directories on a file
  // system without a journal (queue-fix(8)): say so once.
  if (Fd d(::open(q_.dir(Dir::info).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NONBLOCK)); d.ok()) {
    int flags = 0;
    if (journal_less(d.get()) && ::ioctl(d.get(), FS_IOC_GETFLAGS, &flags) == 0 && !(flags & FS_DIRSYNC_FL))
      log_.line("warning: the queue's file system has no journal and its directories are not synchronous: "
                "a power cut can lose mail; run queue-fix");
  }
  ::umask(077);
  scan_info();
  scan_status();
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
          core_->enqueue_deferred(id, Channel(c), st.st_mtime);
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

// Which messages have a defer/N (so that finishing one without it costs no
// system call); a defer/N whose info/N is gone is a leftover and goes.
void Send::scan_status() {
  std::vector<uint64_t> ids = queue::list_ids(q_, Dir::defer);
  if (ids.empty()) return;
  std::vector<uint64_t> info = queue::list_ids(q_, Dir::info);
  for (uint64_t id : ids) {
    if (std::binary_search(info.begin(), info.end(), id)) {
      has_status_.insert(id);
    } else if (::unlink(q_.path(Dir::defer, id).c_str()) < 0 && errno != ENOENT) {
      log_.line("warning: unable to unlink leftover " + q_.path(Dir::defer, id));
    }
  }
}

// ---- the core's Port ----

LoadStatus Send::load(uint64_t id, Channel c, uint64_t offset, size_t max, Loaded* out,
                      std::string* why) {
  std::string fn = q_.path(kChanDir[c], id);
  std::string rel = q_.relpath(kChanDir[c], id);
  uint64_t k = key(id, c);
  Fd mine;
  int fd;
  if (auto it = files_.find(k); it != files_.end()) {
    fd = it->second.get();
  } else {
    Fd f(::open(fn.c_str(), O_RDWR | O_CLOEXEC | O_NOFOLLOW));
    if (!f.ok()) {
      if (errno == ENOENT) return LoadStatus::gone;
      *why = "trouble opening " + rel + ": " + strerror(errno);
      return LoadStatus::trouble;
    }
    fd = f.get();
    if (files_.size() < kMaxOpenFiles)
      files_[k] = std::move(f);
    else
      mine = std::move(f);
  }
  if (offset == 0) {
    switch (queue::hold_state(q_, id)) {
      case queue::HoldState::held: return LoadStatus::held;
      case queue::HoldState::stale:
        // An earlier message's hold/N (same inode number): not this one's.
        if (!queue::hold_remove(q_, id)) log_.line("warning: unable to remove stale " + q_.relpath(Dir::hold, id));
        break;
      case queue::HoldState::trouble:
        *why = "trouble checking " + q_.relpath(Dir::hold, id) + ": " + strerror(errno);
        return LoadStatus::trouble;
      case queue::HoldState::none: break;
    }
    std::string irel = q_.relpath(Dir::info, id);
    if (!read_info(q_, id, &out->sender, &out->birth, &out->warned)) {
      if (errno == ENOENT || errno == EINVAL) {
        *why = errno == ENOENT ? rel + " without " + irel : irel + " has no sender record";
        return LoadStatus::corrupt;
      }
      *why = "trouble opening " + irel + ": " + strerror(errno);
      return LoadStatus::trouble;
    }
    struct stat st;
    if (::stat(q_.path(Dir::mess, id).c_str(), &st) < 0) {
      if (errno == ENOENT) {
        *why = "channel file without its message: no " + q_.relpath(Dir::mess, id);
        return LoadStatus::corrupt;
      }
      *why = "trouble reading " + q_.relpath(Dir::mess, id) + ": " + strerror(errno);
      return LoadStatus::trouble;
    }
  }
  std::string data;
  char buf[1 << 16];
  off_t off = off_t(offset);
  for (;;) {
    ssize_t r = ::pread(fd, buf, sizeof buf, off);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) {
      *why = "trouble reading " + rel + ": " + strerror(errno);
      return LoadStatus::trouble;
    }
    if (r == 0) break;
    data.append(buf, size_t(r));
    off += r;
  }
  std::vector<QueuedRcpt> pending;
  if (!parse_channel_file(data, offset, &pending)) {
    *why = "unknown record type in " + rel;
    // With the other channel's file still there, only this one goes aside:
    // the rest of the message is delivered, and its lifetime applies. (At a
    // first read only: with deliveries of this file in flight, the core
    // defers the rest, and the next first read comes here.)
    Channel other = c == kLocal ? kRemote : kLocal;
    struct stat ost;
    if (offset == 0 && ::stat(q_.path(kChanDir[other], id).c_str(), &ost) == 0) {
      close_file(id, c);
      std::string to = q_.dir(Dir::corrupt) + "/" + fmt_u64(id) + "." + queue::spec(kChanDir[c]).name;
      if (::rename(fn.c_str(), to.c_str()) < 0) {
        *why = "trouble moving " + rel + " to corrupt/: " + strerror(errno);
        return LoadStatus::trouble;
      }
      log_.line("warning: corrupt: moved " + rel + " to corrupt/: " + *why + "; " +
                q_.relpath(kChanDir[other], id) + " goes on");
      return LoadStatus::gone;
    }
    return LoadStatus::corrupt;
  }
  size_t take = std::min(max, pending.size());
  out->unread = pending.size() - take;
  out->next_offset = take < pending.size() ? pending[take].offset : offset + data.size();
  pending.resize(take);
  out->rcpts = std::move(pending);
  return LoadStatus::ok;
}

void Send::deliver(Channel c, unsigned slot, uint64_t id, std::string const& sender,
                   std::vector<std::string> const& rcpts) {
  spawn::Command cmd;
  cmd.slot = slot;
  cmd.id = id;
  cmd.sender = sender;
  cmd.rcpts = rcpts;
  std::string wire;
  spawn::encode(cmd, &wire);
  chan_out_[c].put(wire);
}

void Send::mark_done(uint64_t id, Channel c, uint64_t offset) {
  Fd mine;
  int fd;
  if (auto it = files_.find(key(id, c)); it != files_.end()) {
    fd = it->second.get();
  } else {
    mine.reset(::open(q_.path(kChanDir[c], id).c_str(), O_WRONLY | O_CLOEXEC | O_NOFOLLOW));
    fd = mine.get();
  }
  if (fd < 0 || ::pwrite(fd, "D", 1, off_t(offset)) != 1)
    log_.line("warning: trouble marking " + q_.path(kChanDir[c], id) +
              "; message will be delivered twice!");
}

bool Send::bounce_record(uint64_t id, std::string_view rcpt, std::string_view text) {
  // Deleted meanwhile (qmail-qsuper -d): a record would outlive its message.
  if (!exists(q_.path(Dir::info, id))) return true;
  std::string rec = send::bounce_record(rw_.strip_virtual_prefix(rcpt), text);
  if (bounce_append(q_, id, rec)) return true;
  log_.line(std::string("alert: unable to append to bounce message: ") + strerror(errno) +
            "; will try again later");
  return false;
}

void Send::close_file(uint64_t id, Channel c) { files_.erase(key(id, c)); }

// One append per report that deferred something; no fsync (the log is
// advisory: a crash costs at most the latest texts). A file past
// kStatusFileMax starts afresh with this record.
void Send::defer_status(uint64_t id, Channel c, time_t now,
                        std::vector<std::pair<std::string, std::string>> const& rcpts) {
  if (no_defer_dir_) return;
  std::string rec;
  for (auto const& [addr, text] : rcpts)
    queue::put_status(&rec, c == kLocal ? 'L' : 'R', uint64_t(now), addr, text);
  std::string fn = q_.path(Dir::defer, id);
  Fd fd(::open(fn.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600));
  bool ok = fd.ok() && write_all(fd.get(), rec);
  if (ok) {
    has_status_.insert(id);
    off_t end = ::lseek(fd.get(), 0, SEEK_CUR);
    if (end > off_t(queue::kStatusFileMax))
      ok = ::ftruncate(fd.get(), 0) == 0 && write_all(fd.get(), rec);
  }
  if (ok) return;
  if (errno == ENOENT) {
    // A queue made before defer/ existed: one line, then no records until a restart.
    no_defer_dir_ = true;
    log_.line("warning: no " + q_.dir_of(Dir::defer, id) + " (run queue-fix): status records are off");
    return;
  }
  log_.line("warning: unable to write " + q_.relpath(Dir::defer, id) + ": " + strerror(errno));
}

void Send::deferred(uint64_t id, Channel c, time_t next) {
  std::string fn = q_.path(kChanDir[c], id);
  struct timeval tv[2] = {{next, 0}, {next, 0}};
  auto it = files_.find(key(id, c));
  int r = it != files_.end() ? ::futimes(it->second.get(), tv) : ::utimes(fn.c_str(), tv);
  if (r < 0 && errno != ENOENT) log_.line("warning: unable to utime " + fn + "; message will be retried too soon");
  close_file(id, c);
}

void Send::finished(uint64_t id, Channel c) {
  close_file(id, c);
  unlink_chan_.emplace_back(id, c);  // settle() removes it, then carries on
}

// The removals queued in this turn, in qmail's order: every finished channel
// file, then (for the messages that thereby finished) every info/N, then
// their clean-up requests. Each step's unlinks run together (run_parallel):
// the order between the steps is what a crash needs, not the order within.
void Send::settle(time_t now) {
  auto unlink_all = [](std::vector<std::string> const& paths, std::vector<int>* errs) {
    errs->assign(paths.size(), 0);
    run_parallel(paths.size(), [&](size_t i) {
      if (::unlink(paths[i].c_str()) < 0 && errno != ENOENT) (*errs)[i] = errno ? errno : EIO;
      return true;
    });
  };
  std::vector<std::string> paths;
  std::vector<int> errs;
  while (!unlink_chan_.empty() || !finishing_.empty()) {
    if (!unlink_chan_.empty()) {
      auto batch = std::move(unlink_chan_);
      unlink_chan_.clear();
      paths.clear();
      for (auto const& [id, c] : batch) paths.push_back(q_.path(kChanDir[c], id));
      unlink_all(paths, &errs);
      for (size_t i = 0; i < batch.size(); i++) {
        if (errs[i]) {
          log_.line("warning: unable to unlink " + paths[i] + "; will try again later");
          core_->enqueue_deferred(batch[i].first, batch[i].second, now + kSysfail);
          continue;
        }
        channel_done(batch[i].first, batch[i].second);  // may queue its info/N
      }
    }
    if (!finishing_.empty()) {
      std::vector<uint64_t> batch(finishing_.begin(), finishing_.end());
      paths.clear();
      for (uint64_t id : batch) paths.push_back(q_.path(Dir::info, id));
      unlink_all(paths, &errs);
      for (size_t i = 0; i < batch.size(); i++) {
        uint64_t id = batch[i];
        finishing_.erase(id);
        if (errs[i]) {
          log_.line("warning: unable to unlink " + paths[i] + "; will try again later");
          done_timers_.emplace(now + kSysfail, id);
          continue;
        }
        std::string req = "foop/" + fmt_u64(id);
        req.push_back('\0');
        clean_out_.put(req);
        clean_wait_.push_back(id);
      }
    }
  }
}

// The message's files that qmail-send owns go to corrupt/ as corrupt/N.name;
// mess/N is qmail-queue's (the sweep removes it once info/N is gone).
void Send::corrupt(uint64_t id, std::string const& why) {
  for (int c = 0; c < kChannels; c++) close_file(id, Channel(c));
  std::string moved, failed;
  has_status_.erase(id);
  for (Dir d : {Dir::info, Dir::local, Dir::remote, Dir::bounce, Dir::defer}) {
    std::string from = q_.path(d, id);
    std::string to = q_.dir(Dir::corrupt) + "/" + fmt_u64(id) + "." + queue::spec(d).name;
    if (::rename(from.c_str(), to.c_str()) == 0) {
      moved += (moved.empty() ? "" : ", ") + q_.relpath(d, id);
    } else if (errno != ENOENT) {
      failed += (failed.empty() ? "" : ", ") + q_.relpath(d, id) + " (" + strerror(errno) + ")";
    }
  }
  std::string line = "warning: corrupt: moved " + (moved.empty() ? std::string("nothing") : moved) +
                     " to corrupt/";
  if (!failed.empty()) line += ", unable to move " + failed;
  std::string reason = why;  // our own words: only line ends need taming
  for (char& ch : reason)
    if (ch == '\n' || ch == '\r' || ch == '\0') ch = '/';
  log_.line(line + ": " + reason);
}

void Send::poison(uint64_t id, std::string const& why) {
  std::string text = "poison: " + why;
  if (!queue::hold_create(q_, id, ::time(nullptr), text)) {
    log_.line("alert: unable to hold poison msg " + fmt_u64(id) + ": " + strerror(errno));
    return;
  }
  log_.line("warning: poison: msg " + fmt_u64(id) + " put on hold: " + logsafe(why));
}

// The warning is sent at most once: info/N loses its write bit first (a
// chmod keeps its mtime, the message's birth), then a child injects it.
void Send::delay_warning(uint64_t id, std::string const& sender, std::vector<Delayed> const& rcpts) {
  if (bounce_kind(sender) != BounceKind::bounce) return;  // no warning about a bounce
  if (::chmod(q_.path(Dir::info, id).c_str(), 0400) < 0) {
    log_.line("warning: unable to mark " + q_.relpath(Dir::info, id) + " warned; no delay warning sent");
    return;
  }
  std::string sender_c = sender;
  std::vector<std::pair<std::string, std::string>> r;
  for (auto const& d : rcpts) r.emplace_back(rw_.strip_virtual_prefix(d.addr), d.text);
  pid_t pid = ::fork();
  if (pid < 0) {
    log_.line("warning: unable to fork for the delay warning of msg " + fmt_u64(id));
    return;
  }
  if (pid == 0) {
    SignalPipe::undo_in_child();
    for (int fd = 0; fd <= 9; fd++) ::fcntl(fd, F_SETFD, FD_CLOEXEC);
    pid_t qp = 0;
    int code = warning_inject(q_, id, sender_c, r, bcfg_, ::time(nullptr), &qp);
    _exit(code == 0 ? 0 : 111);
  }
  warners_[pid] = id;
  log_.line("delay warning msg " + fmt_u64(id) + " to " + logsafe(sender));
}

// ---- finishing messages ----

void Send::channel_done(uint64_t id, Channel c) {
  Channel other = c == kLocal ? kRemote : kLocal;
  if (core_->active(id, other)) return;  // the other channel will finish it
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
  if (finishing_.count(id)) return;  // its info/N goes at the end of this turn
  time_t now = ::time(nullptr);
  // Finished already, or moved to corrupt/, or deleted: nothing to do but a
  // failure record a delivery in flight wrote after a deletion.
  if (!exists(q_.path(Dir::info, id))) {
    if (!exists(q_.path(Dir::local, id)) && !exists(q_.path(Dir::remote, id)))
      ::unlink(q_.path(Dir::bounce, id).c_str());
    return;
  }
  for (int c = 0; c < kChannels; c++)
    if (core_->active(id, Channel(c)) || exists(q_.path(kChanDir[c], id))) return;
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
  if (finishing_.count(id)) return;
  log_.line(log_end_msg(id));
  // defer/N before info/N: a crash between the two leaves no orphan.
  if (has_status_.count(id)) {
    std::string dfn = q_.path(Dir::defer, id);
    if (::unlink(dfn.c_str()) < 0 && errno != ENOENT) {
      log_.line("warning: unable to unlink " + dfn + "; will try again later");
      done_timers_.emplace(::time(nullptr) + kSysfail, id);
      return;
    }
    has_status_.erase(id);
  }
  // Held while its last deliveries were in flight: the hold ends with it.
  if (!queue::hold_remove(q_, id)) log_.line("warning: unable to remove " + q_.relpath(Dir::hold, id));
  finishing_.insert(id);  // settle() removes info/N, then asks qmail-clean
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
  while ((pid = ::waitpid(-1, &st, WNOHANG)) > 0) {
    children_.erase(pid);
    // qmail-queued is qmail-start's child, so ours after the exec. Without it
    // injection falls back to the setuid qmail-queue: slower, never lost; so
    // finish the deliveries in flight and exit 111, and the supervisor
    // restarts the queue's daemons, qmail-queued with them.
    if (pid == queued_pid_ && queued_pid_ > 0 && !exitasap_) lost("qmail-queued");
    auto w = warners_.find(pid);
    if (w == warners_.end()) continue;
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
      log_.line("warning: trouble injecting the delay warning of msg " + fmt_u64(w->second));
    warners_.erase(w);
  }
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


void Send::todo_record(std::string_view rec, time_t now) {
  if (rec.empty()) return;
  switch (rec[0]) {
    case todo::kDone: {
      uint64_t id;
      if (rec.size() < 3 || !scan_u64(rec.substr(2), &id)) {
        log_.line("warning: todo-proc sent a mangled report");
        return;
      }
      if (exitasap_) return;  // found again at the next start
      char k = rec[1];
      if (k == 'L' || k == 'B') core_->enqueue_new(id, kLocal, now);
      if (k == 'R' || k == 'B') core_->enqueue_new(id, kRemote, now);
      if (k == 'X') done_timers_.emplace(now, id);
      break;
    }
    case todo::kLog: log_.line(rec.substr(1)); break;
    case todo::kTrigger: core_->trigger(rec.substr(1), now); break;
    case todo::kFlush:
      if (!core_->flush_destination(rec.substr(1), now))
        log_.line("info: flush " + logsafe(rec.substr(1)) + ": no mail waits for that destination");
      break;
    case todo::kAdmin: admin_request(rec.substr(1), now); break;
    case todo::kExiting:
      todo_alive_ = false;
      if (!exitasap_) lost("todo-proc");
      break;
    default: log_.line("warning: qmail-send unable to understand todo-proc: report mangled");
  }
}

// qmail-qsuper's notes (proto/todo.h): the files are changed already; these
// make qmail-send act on them now rather than at its next look.
void Send::admin_request(std::string_view req, time_t now) {
  if (req.empty()) return;
  char k = req[0];
  std::string_view arg = req.substr(1);
  uint64_t id = 0;
  bool has_id = !arg.empty() && scan_u64(arg, &id);
  switch (k) {
    case 'H':
      if (has_id) {
        if (queue::hold_state(q_, id) == queue::HoldState::held) core_->hold(id, now);
      } else {
        for (uint64_t a : core_->active_ids())
          if (queue::hold_state(q_, a) == queue::HoldState::held) core_->hold(a, now);
      }
      break;
    case 'U':
      if (has_id) {
        if (queue::hold_state(q_, id) != queue::HoldState::held) core_->release(id, now);
      } else {
        for (uint64_t h : core_->held_ids())
          if (queue::hold_state(q_, h) != queue::HoldState::held) core_->release(h, now);
      }
      break;
    case 'Q':
      if (has_id) wake(id, now);
      break;
    case 'E':
      if (has_id) {
        core_->expire(id, now);
        if (queue::hold_state(q_, id) != queue::HoldState::held && !core_->release(id, now)) wake(id, now);
      }
      break;
    case 'S': flush_sender(arg, now); break;
    case 'P': {
      Settings s;
      std::string bad;
      if (load_settings(&s, &bad)) core_->configure(std::move(s));
      else log_.line("alert: unable to reread controls: " + bad);
      break;
    }
    default: log_.line("warning: lock/trigger: ignored unknown request"); return;
  }
}

// (id, c) waits in the core's deferred heap at its channel file's mtime.
void Send::wake(uint64_t id, time_t now) {
  for (int c = 0; c < kChannels; c++) {
    struct stat st;
    if (::stat(q_.path(kChanDir[c], id).c_str(), &st) == 0) core_->wake_message(id, Channel(c), st.st_mtime, now);
  }
}

// sendmail -qS: the mail of one sender, found by reading info/ (a request of
// the administrator, not a decision: it costs one read per queued message).
void Send::flush_sender(std::string_view who, time_t now) {
  std::string want = addr::lower(who);
  if (want == "<>") want.clear();
  size_t n = 0;
  for (uint64_t id : queue::list_ids(q_, Dir::info)) {
    std::string sender;
    time_t birth;
    if (!read_info(q_, id, &sender, &birth) || addr::lower(sender) != want) continue;
    wake(id, now);
    n++;
  }
  log_.line("info: flush sender " + logsafe(who) + ": " + fmt_u64(n) + " message(s)");
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
  // Once a second: the figures walk the destinations; the heartbeat is in seconds.
  if (!slot_ || now == last_publish_) return;
  last_publish_ = now;
  Stats s = core_->stats();
  slot_->lused.store(s.used[kLocal], std::memory_order_relaxed);
  slot_->lmax.store(s.concurrency[kLocal], std::memory_order_relaxed);
  slot_->rused.store(s.used[kRemote], std::memory_order_relaxed);
  slot_->rmax.store(s.concurrency[kRemote], std::memory_order_relaxed);
  slot_->queued.store(uint32_t(std::min<size_t>(s.queued + s.active, UINT32_MAX)), std::memory_order_relaxed);
  slot_->backlog.store(uint32_t(std::min<size_t>(s.backlog, UINT32_MAX)), std::memory_order_relaxed);
  slot_->delivered.store(s.delivered, std::memory_order_relaxed);
  for (int c = 0; c < kChannels; c++)
    for (int k = 0; k < 3; k++) slot_->results[c][k].store(s.results[c][k], std::memory_order_relaxed);
  slot_->heartbeat.store(uint32_t(now), std::memory_order_release);
}

bool Send::can_exit() const {
  for (int c = 0; c < kChannels; c++)
    if (spawn_alive_[c] && core_->in_flight(Channel(c))) return false;
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
    settle(now);  // what the last turn's events finished
    if (exitasap_ && !x_sent) {
      core_->stop();
      if (todo_alive_) todo_out_.put(std::string(1, todo::kExit));
      x_sent = true;
    }
    if (exitasap_ && can_exit()) break;
    core_->step(now);
    if (!exitasap_) {
      run_timers(now);
      if (clean_alive_) cleanup_step(now);
    }
    settle(now);
    status();
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

    time_t wake = std::min(core_->next_wakeup(now), now + 86400);
    if (!exitasap_) {
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
            // Every deferred job now, and the clean-ups of finished
            // messages that failed.
            time_t t = ::time(nullptr);
            core_->alarm(t);
            for (auto* m : {&done_timers_, &clean_timers_}) {
              std::multimap<time_t, uint64_t> timers;
              for (auto const& [when, id] : *m) timers.emplace(std::min(when, t), id);
              m->swap(timers);
            }
          }
          if (s == SIGHUP) {
            if (!read_controls()) log_.line("alert: unable to reread controls");
            if (todo_alive_) todo_out_.put(std::string(1, todo::kReread));
            last_status_[0] = ~0u;  // a status line says the reread happened
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
        time_t t = ::time(nullptr);
        while (pos < buf.size()) {
          size_t used;
          auto st = reports_[c]->feed(buf.data() + pos, buf.size() - pos, &used);
          pos += used;
          if (st == spawn::ReportReader::Status::report) {
            auto res = reports_[c]->take();
            core_->report(c, reports_[c]->slot(), reports_[c]->verdict(), res, t);
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
        time_t t = ::time(nullptr);
        while ((nul = todo_in_.find('\0', start)) != std::string::npos) {
          todo_record(std::string_view(todo_in_).substr(start, nul - start), t);
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
