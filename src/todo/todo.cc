// ISC license.
#include "todo/todo.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <mqueue.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "proto/todo.h"
#include "queue/envelope.h"
#include "send/log.h"
#include "sys/exitcodes.h"
#include "sys/fs.h"

namespace qf::todo {

using queue::Dir;

namespace {

int64_t now() { return int64_t(::time(nullptr)); }

bool numeric(char const* s, uint64_t* n) { return scan_u64(s, n); }

// Reads a queue file whole; files of a message are small except envelopes with
// very many recipients, hence the generous bound.
bool slurp(std::string const& path, std::string* out) {
  return read_file(path.c_str(), out, size_t(1) << 32);
}

// Creates path with data, or replaces what a crash left there (O_TRUNC).
bool create_with(std::string const& path, std::string const& data, Fd* out) {
  Fd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600));
  if (!fd.ok()) return false;
  if (!write_all(fd.get(), data)) {
    int e = errno;
    ::unlink(path.c_str());
    errno = e;
    return false;
  }
  *out = std::move(fd);
  return true;
}

}  // namespace

void TodoProc::record(char type, std::string const& body) {
  std::string r(1, type);
  r += body;
  r.push_back('\0');
  out_.put(r);
}

void TodoProc::log(std::string const& line) { record(kLog, line); }

void TodoProc::scan() {
  auto add = [this](uint64_t id) {
    if (queued_.count(id) || announced_.count(id)) return;
    queued_.insert(id);
    pending_.push_back(id);
  };
  auto read_dir = [&](std::string const& dir) {
    DIR* d = ::opendir(dir.c_str());
    if (!d) {
      log("alert: unable to opendir " + dir + ", will try again later");
      return;
    }
    while (struct dirent* e = ::readdir(d)) {
      uint64_t id;
      if (numeric(e->d_name, &id)) add(id);
    }
    ::closedir(d);
  };
  if (q_.is_split(Dir::todo))
    for (unsigned i = 0; i < q_.split(); i++) read_dir(q_.subdir(Dir::todo, i));
  else
    read_dir(q_.dir(Dir::todo));
  next_scan_ = now() + kScanInterval;
}

void TodoProc::quarantine(uint64_t id, std::string const& why) {
  std::string base = q_.dir(Dir::corrupt) + "/" + fmt_u64(id);
  std::string data, saved;
  bool ok = true;
  if (slurp(q_.path(Dir::todo, id), &data)) {
    ok &= write_file_atomic(base + ".todo", data, 0600);
    saved += " " + base + ".todo";
  }
  if (slurp(q_.path(Dir::mess, id), &data)) {
    ok &= write_file_atomic(base + ".mess", data, 0600);
    saved += " " + base + ".mess";
  }
  if (!ok) {
    log("alert: unable to quarantine todo/" + fmt_u64(id) + " (" + why +
        "); leaving it, will try again later");
    return;
  }
  std::string req = "todo/" + fmt_u64(id) + std::string(1, '\0') + "foop/" + fmt_u64(id);
  req.push_back('\0');
  char ans[2];
  if (!write_all(2, req) || read_full(3, ans, 2) != 2) {
    log("alert: oh no! lost qmail-clean connection! dying...");
    exit_ = true;
    exitcode_ = ex::temp;
    return;
  }
  // One line, in qmail-send's words for its own corrupt files.
  log("warning: corrupt: moved " + q_.relpath(Dir::todo, id) + " to corrupt/ (copies:" +
      (saved.empty() ? std::string(" none") : saved) + ")" +
      (ans[0] == '+' && ans[1] == '+' ? "" : ", qmail-clean could not remove it all") + ": " + why);
}

bool TodoProc::preprocess(uint64_t id, GroupSync* gs, Done* done) {
  std::string todofn = q_.path(Dir::todo, id);
  std::string env;
  if (!slurp(todofn, &env)) {
    if (errno != ENOENT) log("warning: unable to open " + todofn + ", will try again later");
    return false;
  }
  struct stat st;
  std::string messfn = q_.path(Dir::mess, id);
  Fd mess(::open(messfn.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK));
  if (!mess.ok() || ::fstat(mess.get(), &st) < 0) {
    if (errno == ENOENT)
      quarantine(id, "no message in mess/");
    else
      log("warning: unable to open " + messfn + ", will try again later");
    return false;
  }
  if (uint64_t(st.st_ino) != id || !S_ISREG(st.st_mode)) {
    quarantine(id, "mess/ file is not named by its inode");
    return false;
  }
  // Its injector still holds the message: not committed yet (it may still
  // take todo/N back, inject.h). Look again in a second.
  if (::flock(mess.get(), LOCK_SH | LOCK_NB) < 0) {
    if (errno == EWOULDBLOCK) {
      next_scan_ = std::min(next_scan_, now() + 1);
    } else {
      log("warning: unable to lock " + messfn + ", will try again later");
    }
    return false;
  }
  uint64_t uid = 0, pid = 0;
  std::string info, chan[2];
  bool have_sender = false, bad = false;
  std::string sender;
  bool whole = queue::for_each_record(env, [&](char t, std::string_view v) {
    switch (t) {
      case 'u': scan_u64(v, &uid); break;
      case 'p': scan_u64(v, &pid); break;
      case 'F':
        if (have_sender) bad = true;
        have_sender = true;
        sender = std::string(v);
        queue::put_record(&info, 'F', v);
        break;
      case 'T': {
        if (!have_sender || v.empty()) {
          bad = true;
          return false;
        }
        addr::Rewritten r = rw_.rewrite(v);
        queue::put_record(&chan[r.local ? 0 : 1], 'T', r.addr);
        break;
      }
      default:
        bad = true;
        return false;
    }
    return true;
  });
  if (!whole || bad || !have_sender) {
    quarantine(id, !whole ? "truncated record" : "bad or missing record");
    return false;
  }
  // A crash may have left a partial pre-processing: start over. The files
  // made below replace theirs (O_TRUNC); a channel file this message does
  // not get goes.
  for (int c = 0; c < 2; c++) {
    if (!chan[c].empty()) continue;
    std::string fn = q_.path(c == 0 ? Dir::local : Dir::remote, id);
    if (::unlink(fn.c_str()) < 0 && errno != ENOENT) {
      log("warning: unable to unlink " + fn + ", will try again later");
      return false;
    }
  }
  Fd fd;
  std::string infofn = q_.path(Dir::info, id);
  if (!create_with(infofn, info, &fd)) {
    log("warning: unable to create " + infofn + ", will try again later");
    return false;
  }
  gs->add_file(std::move(fd));
  gs->add_dir(q_.dir_of(Dir::info, id));
  Dir dirs[2] = {Dir::local, Dir::remote};
  for (int c = 0; c < 2; c++) {
    if (chan[c].empty()) continue;
    std::string fn = q_.path(dirs[c], id);
    if (!create_with(fn, chan[c], &fd)) {
      log("warning: unable to create " + fn + ", will try again later");
      ::unlink(infofn.c_str());
      if (c == 1) ::unlink(q_.path(Dir::local, id).c_str());
      return false;
    }
    gs->add_file(std::move(fd));
    gs->add_dir(q_.dir_of(dirs[c], id));
  }
  done->id = id;
  done->kind = !chan[0].empty() ? (!chan[1].empty() ? 'B' : 'L') : (!chan[1].empty() ? 'R' : 'X');
  done->log = {send::log_new_msg(id),
               send::log_info_msg(id, uint64_t(st.st_size), sender, pid, uid)};
  return true;
}

bool TodoProc::clean(std::vector<uint64_t> const& ids, std::vector<char>* answers) {
  std::string req;
  for (uint64_t id : ids) {
    req += "todo/" + fmt_u64(id);
    req.push_back('\0');
  }
  answers->assign(ids.size(), '!');
  if (!write_all(2, req)) return false;
  ssize_t r = read_full(3, answers->data(), ids.size());
  return r == ssize_t(ids.size());
}

void TodoProc::process_batch() {
  GroupSync gs;
  std::vector<Done> done;
  size_t n = std::min(kBatch, pending_.size());
  for (size_t i = 0; i < n && !exit_; i++) {
    uint64_t id = pending_.front();
    pending_.pop_front();
    queued_.erase(id);
    Done d;
    if (preprocess(id, &gs, &d)) done.push_back(std::move(d));
  }
  if (done.empty()) return;
  // Without a journal that orders data, the batch is made durable before
  // its todo/ links go. With one, it is written out only: qmail-clean's
  // removal of each todo/N below is a later change, so the commit that makes
  // a removal durable holds the batch's files whole; until then the crash
  // leaves todo/N, and the message is pre-processed again (O_TRUNC).
  if (!(ordered_ ? gs.write_out() : gs.sync())) {
    log(std::string("warning: trouble fsyncing pre-processed files: ") + strerror(errno) +
        "; will try again later");
    for (auto const& d : done) {
      ::unlink(q_.path(Dir::info, d.id).c_str());
      ::unlink(q_.path(Dir::local, d.id).c_str());
      ::unlink(q_.path(Dir::remote, d.id).c_str());
    }
    return;
  }
  std::vector<uint64_t> ids;
  for (auto const& d : done) ids.push_back(d.id);
  std::vector<char> answers;
  if (!clean(ids, &answers)) {
    log("alert: oh no! lost qmail-clean connection! dying...");
    exit_ = true;
    exitcode_ = ex::temp;
    return;
  }
  for (size_t i = 0; i < done.size(); i++) {
    // Announced only once todo/N is gone for good: a todo/N that stayed would
    // be pre-processed again at the next start and its recipients delivered twice.
    if (answers[i] != '+') {
      log("warning: qmail-clean unable to clean up todo/" + fmt_u64(done[i].id) +
          "; will try again later");
      announced_.insert(done[i].id);
      unclean_.push_back(std::move(done[i]));
      if (!next_clean_retry_) next_clean_retry_ = now() + 10;
      continue;
    }
    for (auto const& l : done[i].log) log(l);
    record(kDone, std::string(1, done[i].kind) + fmt_u64(done[i].id));
  }
}

void TodoProc::retry_clean() {
  if (unclean_.empty() || now() < next_clean_retry_) return;
  std::vector<uint64_t> ids;
  for (auto const& d : unclean_) ids.push_back(d.id);
  std::vector<char> answers;
  if (!clean(ids, &answers)) {
    log("alert: oh no! lost qmail-clean connection! dying...");
    exit_ = true;
    exitcode_ = ex::temp;
    return;
  }
  std::vector<Done> still;
  for (size_t i = 0; i < unclean_.size(); i++) {
    if (answers[i] != '+') {
      still.push_back(std::move(unclean_[i]));
      continue;
    }
    announced_.erase(unclean_[i].id);
    for (auto const& l : unclean_[i].log) log(l);
    record(kDone, std::string(1, unclean_[i].kind) + fmt_u64(unclean_[i].id));
  }
  unclean_ = std::move(still);
  next_clean_retry_ = unclean_.empty() ? 0 : now() + 60;
}

// Notes from qmail-queue: ids to look at now, without reading todo/. Only
// hints: preprocess() checks that todo/N and mess/N exist and agree.
void TodoProc::drain_notes() {
  char msg[8192];
  for (int i = 0; i < 10000; i++) {
    ssize_t r = ::mq_receive(mqd_t(mq_), msg, sizeof msg, nullptr);
    if (r < 0) break;
    if (r != 8) continue;
    uint64_t id;
    std::memcpy(&id, msg, 8);
    if (queued_.count(id) || announced_.count(id)) continue;
    queued_.insert(id);
    pending_.push_back(id);
  }
}

void TodoProc::handle_command(char c) {
  switch (c) {
    case kReread:
      if (!rw_.load()) log("alert: unable to reread controls");
      break;
    case kExit: exit_ = true; break;
    default: break;
  }
}

// Postfix's qmgr reads a whole buffer of requests, merges duplicates and
// applies A and F before D; I and W (and the NUL of qmail's clients) mean new
// mail, which is todo-proc's own business: every byte rescans todo/. "R"
// domain "\n" asks for one destination's flush (sendmail -qR); the requests
// of qmail-qsuper and sendmail -qS (H U Q E S with an argument up to "\n",
// and P) go to qmail-send as they are (proto/todo.h).
void TodoProc::drain_trigger() {
  char buf[512];
  ssize_t r;
  bool a = false, f = false, d = false;
  std::vector<std::string> unknown;
  while ((r = ::read(trigger_.get(), buf, sizeof buf)) > 0) {
    for (ssize_t i = 0; i < r; i++) {
      char c = buf[i];
      if (arg_open_) {
        if (c == '\n' || c == '\0') {
          if (arg_open_ == 'R') {
            if (!flush_.empty()) record(kFlush, flush_);
          } else {
            record(kAdmin, std::string(1, arg_open_) + flush_);
          }
          flush_.clear();
          arg_open_ = 0;
        } else if (flush_.size() < 255) {
          flush_.push_back(c);
        }
        continue;
      }
      switch (c) {
        case 'A': a = true; break;
        case 'F': f = true; break;
        case 'D': d = true; break;
        case 'I': case 'W': case '\0': case '\n': break;
        case 'R': case 'H': case 'U': case 'Q': case 'E': case 'S': arg_open_ = c; break;
        case 'P': record(kAdmin, "P"); break;
        default: {
          std::string b = "0x" + std::string(1, "0123456789abcdef"[(unsigned char)c >> 4]) +
                          "0123456789abcdef"[c & 15];
          if (std::find(unknown.begin(), unknown.end(), b) == unknown.end()) unknown.push_back(b);
        }
      }
    }
    scan_now_ = true;
    // A wake-up is also the moment to ask qmail-clean again for the todo/
    // files it could not remove.
    if (!unclean_.empty()) next_clean_retry_ = now();
  }
  if (!unknown.empty()) {
    std::string l = "warning: lock/trigger: ignored unknown request";
    for (auto const& b : unknown) l += " " + b;
    log(l);
  }
  std::string req;
  if (a) req += 'A';
  if (f) req += 'F';
  if (d) req += 'D';
  if (!req.empty()) record(kTrigger, req);
}

int TodoProc::run() {
  if (!set_nonblock(1)) return ex::temp;
  // Signals come through qmail-send: a stray HUP or PIPE must not kill us; a
  // TERM asks for a clean exit like X.
  ::signal(SIGHUP, SIG_IGN);
  ::signal(SIGPIPE, SIG_IGN);
  SignalPipe sig;
  if (!sig.init({SIGTERM})) return ex::temp;
  Fd mutex(::open(q_.lock("todomutex").c_str(), O_RDWR | O_CLOEXEC));
  if (!mutex.ok()) {
    log("alert: cannot start: unable to open lock/todomutex");
    out_.flush();
    return ex::temp;
  }
  // A todo-proc of the previous qmail-send may be finishing its batch: wait a while.
  for (int tries = 0; ::flock(mutex.get(), LOCK_EX | LOCK_NB) < 0; tries++) {
    if (tries >= 300) {
      log("alert: cannot start: todo-proc is already running");
      out_.flush();
      return ex::temp;
    }
    ::usleep(100000);
  }
  {
    Fd root(::open(q_.root().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NONBLOCK));
    ordered_ = root.ok() && journal_orders_data(root.get());
  }
  char c;
  if (read_full(0, &c, 1) != 1) return ex::ok;
  if (c != kStart) return ex::perm;
  if (!rw_.load()) {
    log("alert: cannot start: unable to read controls");
    out_.flush();
    return ex::temp;
  }
  trigger_.reset(::open(q_.lock("trigger").c_str(), O_RDWR | O_NONBLOCK | O_CLOEXEC));
  // Under qscheduler -d: the queue's message queue and its slot in the segment.
  char const* base = getenv("QUEUE_BASE");
  char const* qi = getenv("QIDENT");
  uint64_t qn;
  if (base && *base && qi && scan_u64(qi, &qn)) {
    mqd_t m = ::mq_open(multi::mq_name(base, unsigned(qn)).c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (m != mqd_t(-1)) mq_ = int(m);
    if (shm_.attach(base, true)) slot_ = shm_.slot(unsigned(qn));
  }
  if (!trigger_.ok()) log("warning: unable to open lock/trigger; scanning todo/ every minute");

  while (!exit_) {
    if (scan_now_ || now() >= next_scan_) {
      scan_now_ = false;
      scan();
    }
    if (mq_ >= 0) drain_notes();
    if (!pending_.empty()) process_batch();
    retry_clean();
    if (slot_) slot_->todo.store(uint32_t(pending_.size()), std::memory_order_relaxed);
    if (!out_.flush()) return ex::ok;  // qmail-send is gone
    iopause_fd x[6];
    unsigned n = 0;
    x[n++] = {0, IOPAUSE_READ, 0};
    int ti = -1, oi = -1;
    if (trigger_.ok()) {
      ti = int(n);
      x[n++] = {trigger_.get(), IOPAUSE_READ, 0};
    }
    if (out_.pending()) {
      oi = int(n);
      x[n++] = {1, IOPAUSE_WRITE, 0};
    }
    if (mq_ >= 0) x[n++] = {mq_, IOPAUSE_READ, 0};
    int ci = int(n);
    x[n++] = {3, IOPAUSE_READ, 0};  // qmail-clean says nothing unasked: readable means it died
    x[n++] = {sig.fd(), IOPAUSE_READ, 0};
    int64_t wait_ms = pending_.empty() ? std::max<int64_t>(0, next_scan_ - now()) * 1000 + 10 : 0;
    if (wait_fds(x, n, wait_ms) < 0) continue;
    if (x[0].revents) {
      char cmd[64];
      ssize_t r = ::read(0, cmd, sizeof cmd);
      if (r == 0) exit_ = true;  // qmail-send went away
      for (ssize_t i = 0; i < r; i++) handle_command(cmd[i]);
    }
    if (ti >= 0 && x[ti].revents) drain_trigger();
    if (x[n - 1].revents)
      while (sig.next() > 0) exit_ = true;
    if (x[ci].revents) {
      log("alert: oh no! lost qmail-clean connection! dying...");
      exit_ = true;
      exitcode_ = ex::temp;
    }
    (void)oi;
  }
  record(kExiting, "");
  // Deliver the last records with the fd blocking again.
  int fl = ::fcntl(1, F_GETFL);
  ::fcntl(1, F_SETFL, fl & ~O_NONBLOCK);
  out_.flush();
  return exitcode_;
}

}  // namespace qf::todo
