// ISC license.
#include "queue/admin.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "addr/address.h"
#include "conf/paths.h"
#include "queue/envelope.h"
#include "queue/hold.h"
#include "queue/scan.h"
#include "sys/fs.h"

namespace qf::queue {

namespace {

bool exists(std::string const& p) {
  struct stat st;
  return ::lstat(p.c_str(), &st) == 0;
}

void records(std::string const& path, MessageView* m, bool sender, bool rcpts) {
  std::string data;
  if (!read_file(path.c_str(), &data, size_t(1) << 30)) return;
  for_each_record(data, [&](char t, std::string_view v) {
    if (t == 'F' && sender) m->sender = std::string(v);
    if (t == 'T' && rcpts) m->rcpts.emplace_back(v);
    return true;
  });
}

// The header of mess/N, unfolded, one field per entry.
std::vector<std::string> header_fields(Layout const& q, uint64_t id) {
  std::vector<std::string> out;
  Fd fd(::open(q.path(Dir::mess, id).c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (!fd.ok()) return out;
  std::string h;
  char buf[8192];
  ssize_t r;
  while (h.size() < (1 << 20) && (r = ::read(fd.get(), buf, sizeof buf)) > 0) {
    h.append(buf, size_t(r));
    if (h.find("\n\n") != std::string::npos || h.rfind("\n", 0) == 0) break;
  }
  size_t end = h.rfind("\n", 0) == 0 ? 0 : h.find("\n\n");
  if (end != std::string::npos) h.resize(end);
  size_t pos = 0;
  while (pos < h.size()) {
    size_t nl = h.find('\n', pos);
    std::string line = h.substr(pos, nl == std::string::npos ? std::string::npos : nl - pos);
    pos = nl == std::string::npos ? h.size() : nl + 1;
    if ((line.rfind(" ", 0) == 0 || line.rfind("\t", 0) == 0) && !out.empty())
      out.back() += line;
    else
      out.push_back(line);
  }
  return out;
}

void set_times(std::string const& path, time_t t) {
  struct timeval tv[2] = {{t, 0}, {t, 0}};
  ::utimes(path.c_str(), tv);
}

}  // namespace

char const* action_verb(Action a, bool dry) {
  switch (a) {
    case Action::hold: return dry ? "would hold" : "held";
    case Action::release: return dry ? "would release" : "released";
    case Action::requeue: return dry ? "would requeue" : "requeued";
    case Action::remove: return dry ? "would delete" : "deleted";
    case Action::expire: return dry ? "would expire" : "expired";
  }
  return "?";
}

bool view_message(Layout const& q, uint64_t id, Selector const& sel, MessageView* m) {
  struct stat st;
  if (::stat(q.path(Dir::mess, id).c_str(), &st) < 0) return false;
  m->id = id;
  m->arrival = st.st_mtime;
  m->size = uint64_t(st.st_size);
  m->in_todo = exists(q.path(Dir::todo, id));
  if (!m->in_todo && !exists(q.path(Dir::info, id))) return false;
  m->held = hold_state(q, id) == HoldState::held;
  if (sel.needs_envelope()) {
    if (m->in_todo) {
      records(q.path(Dir::todo, id), m, true, true);
    } else {
      records(q.path(Dir::info, id), m, true, false);
      if (sel.rcpt_domain)
        for (Dir d : {Dir::local, Dir::remote}) records(q.path(d, id), m, false, true);
    }
  }
  return true;
}

bool matches(Selector const& sel, unsigned qn, MessageView const& m, Layout const& q, time_t now) {
  if (sel.queue && *sel.queue != qn) return false;
  if (sel.older && !(now - m.arrival > *sel.older)) return false;
  if (sel.younger && !(now - m.arrival < *sel.younger)) return false;
  if (sel.larger && !(m.size > *sel.larger)) return false;
  if (sel.smaller && !(m.size < *sel.smaller)) return false;
  if (sel.sender && addr::lower(m.sender) != addr::lower(*sel.sender)) return false;
  if (sel.rcpt_domain) {
    std::string d = addr::lower(*sel.rcpt_domain);
    if (std::none_of(m.rcpts.begin(), m.rcpts.end(), [&](std::string const& r) { return addr::domain_of(r) == d; }))
      return false;
  }
  if (sel.header) {
    auto fields = header_fields(q, m.id);
    if (std::none_of(fields.begin(), fields.end(),
                     [&](std::string const& f) { return regexec(sel.header.get(), f.c_str(), 0, nullptr, 0) == 0; }))
      return false;
  }
  return true;
}

unsigned queue_number(std::string const& dir) {
  std::string d = dir;
  while (d.size() > 1 && d.back() == '/') d.pop_back();
  size_t slash = d.rfind('/');
  std::string base = slash == std::string::npos ? d : d.substr(slash + 1);
  uint64_t n;
  if (base.rfind("queue", 0) == 0 && scan_u64(base.substr(5), &n) && n < 100000) return unsigned(n);
  return 0;
}

std::string AdminQueue::name() const {
  if (number_) return "queue" + fmt_u64(number_);
  return q_.root();
}

bool AdminQueue::lock() {
  Fd m(::open(q_.lock("sendmutex").c_str(), O_RDONLY | O_CLOEXEC));
  if (!m.ok()) return false;
  if (::flock(m.get(), LOCK_EX | LOCK_NB) == 0) {
    mutex_ = std::move(m);
    send_running_ = false;
  } else {
    send_running_ = true;
  }
  return true;
}

std::vector<uint64_t> AdminQueue::messages(bool* ok) const {
  bool a = true, b = true;
  std::vector<uint64_t> info = list_ids(q_, Dir::info, &a);
  std::vector<uint64_t> todo = list_ids(q_, Dir::todo, &b);
  if (ok) *ok = a && b;
  std::vector<uint64_t> all;
  std::set_union(info.begin(), info.end(), todo.begin(), todo.end(), std::back_inserter(all));
  return all;
}

void AdminQueue::note(std::string const& req) { notes_ += req; }

int AdminQueue::apply(Action a, MessageView const& m, time_t now, std::string* why) {
  uint64_t id = m.id;
  auto dirty = [&](Dir d) {
    std::string dir = q_.dir_of(d, id);
    if (std::find(dirty_.begin(), dirty_.end(), dir) == dirty_.end()) dirty_.push_back(dir);
  };
  switch (a) {
    case Action::hold: {
      if (m.held) {
        *why = "already held";
        return 0;
      }
      bool created;
      if (!hold_create(q_, id, now, "held by qmail-qsuper", &created, false)) {
        *why = std::string("unable to create ") + q_.relpath(Dir::hold, id) + ": " + strerror(errno);
        return -1;
      }
      dirty(Dir::hold);
      // Finished meanwhile: the hold must not outlive its message.
      if (!exists(q_.path(Dir::info, id)) && !exists(q_.path(Dir::todo, id))) {
        hold_remove(q_, id, false);
        *why = "gone meanwhile";
        return 0;
      }
      changed_.push_back(id);
      return 1;
    }
    case Action::release:
      if (!m.held) {
        *why = "not held";
        return 0;
      }
      if (!hold_remove(q_, id, false)) {
        *why = std::string("unable to remove ") + q_.relpath(Dir::hold, id) + ": " + strerror(errno);
        return -1;
      }
      dirty(Dir::hold);
      changed_.push_back(id);
      return 1;
    case Action::requeue: {
      if (m.in_todo) {
        *why = "not yet pre-processed (todo-proc takes it at once)";
        return 0;
      }
      bool any = false;
      for (Dir d : {Dir::local, Dir::remote})
        if (exists(q_.path(d, id))) {
          set_times(q_.path(d, id), now);
          any = true;
        }
      if (!any) {
        *why = "nothing pending";
        return 0;
      }
      changed_.push_back(id);
      return 1;
    }
    case Action::remove:
      if (m.in_todo) {
        *why = "not yet pre-processed by todo-proc; try again";
        return -1;
      }
      // Held first (durably, in finish()), then removed: see finish().
      if (!m.held && !hold_create(q_, id, now, "deleting (qmail-qsuper -d)", nullptr, false)) {
        *why = std::string("unable to create ") + q_.relpath(Dir::hold, id) + ": " + strerror(errno);
        return -1;
      }
      dirty(Dir::hold);
      changed_.push_back(id);
      return 1;
    case Action::expire: {
      if (m.in_todo) {
        *why = "not yet pre-processed by todo-proc; try again";
        return -1;
      }
      // Born at 1: past every lifetime (send/core.h kExpiredBirth).
      std::string info = q_.path(Dir::info, id);
      struct timeval tv[2] = {{1, 0}, {1, 0}};
      if (::utimes(info.c_str(), tv) < 0) {
        *why = std::string("unable to utime ") + q_.relpath(Dir::info, id) + ": " + strerror(errno);
        return errno == ENOENT ? 0 : -1;
      }
      Fd f(::open(info.c_str(), O_RDONLY | O_CLOEXEC));
      if (f.ok()) ::fsync(f.get());
      for (Dir d : {Dir::local, Dir::remote})
        if (exists(q_.path(d, id))) set_times(q_.path(d, id), now);
      if (m.held) {
        hold_remove(q_, id, false);
        dirty(Dir::hold);
      }
      changed_.push_back(id);
      return 1;
    }
  }
  return -1;
}

bool AdminQueue::sync_dirs() {
  bool ok = true;
  for (auto const& d : dirty_) ok = fsync_dir(d) && ok;
  dirty_.clear();
  return ok;
}

void AdminQueue::flush_notes() {
  if (!notes_.empty() && send_running_) send_notes(q_, notes_);
  notes_.clear();
}

bool AdminQueue::finish(Action a) {
  constexpr size_t kBulk = 1000;  // past this, one request for every message
  bool ok = sync_dirs();
  bool bulk = changed_.size() > kBulk;
  auto per_id = [&](char k) {
    for (uint64_t id : changed_) note(std::string(1, k) + fmt_u64(id) + "\n");
  };
  switch (a) {
    case Action::hold:
      if (bulk) note("H\n"); else per_id('H');
      break;
    case Action::release:
      if (bulk) note("U\n"); else per_id('U');
      break;
    case Action::requeue:
      if (bulk) note("AD"); else per_id('Q');
      break;
    case Action::expire: per_id('E'); break;
    case Action::remove: {
      // Every message is held now (durable): qmail-send drops it from memory.
      if (bulk) note("H\n"); else per_id('H');
      flush_notes();
      // The failure records first (no bounce for a deleted message), then the
      // channel files, then info/N: a crash in between leaves it held.
      for (Dir d : {Dir::bounce, Dir::local, Dir::remote, Dir::info}) {
        for (uint64_t id : changed_) {
          if (::unlink(q_.path(d, id).c_str()) == 0) {
            std::string dir = q_.dir_of(d, id);
            if (std::find(dirty_.begin(), dirty_.end(), dir) == dirty_.end()) dirty_.push_back(dir);
          } else if (errno != ENOENT) {
            ok = false;
          }
        }
        ok = sync_dirs() && ok;
      }
      // mess/N is qmailq's: removed here when we may (root, or the owner of
      // an unprivileged instance); otherwise qmail-send's sweep does it.
      {
        for (uint64_t id : changed_)
          if (::unlink(q_.path(Dir::mess, id).c_str()) == 0) {
            std::string dir = q_.dir_of(Dir::mess, id);
            if (std::find(dirty_.begin(), dirty_.end(), dir) == dirty_.end()) dirty_.push_back(dir);
          }
        ok = sync_dirs() && ok;
      }
      for (uint64_t id : changed_) hold_remove(q_, id, false);
      ok = fsync_dir(q_.dir(Dir::hold)) && ok;
      break;
    }
  }
  flush_notes();
  changed_.clear();
  return ok;
}

bool send_notes(Layout const& q, std::string const& bytes) {
  Fd fd(::open(q.lock("trigger").c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC));
  if (!fd.ok()) return false;
  size_t pos = 0;
  int waited_ms = 0;
  while (pos < bytes.size()) {
    // Whole requests only, at most PIPE_BUF bytes: a write is atomic.
    size_t n = std::min<size_t>(bytes.size() - pos, PIPE_BUF);
    if (pos + n < bytes.size()) {
      size_t nl = bytes.rfind('\n', pos + n - 1);
      if (nl != std::string::npos && nl >= pos) n = nl + 1 - pos;
    }
    ssize_t w = ::write(fd.get(), bytes.data() + pos, n);
    if (w > 0) {
      pos += size_t(w);
      continue;
    }
    if (w < 0 && errno != EAGAIN && errno != EINTR) return false;
    if (waited_ms >= 10000) return false;
    struct pollfd p = {fd.get(), POLLOUT, 0};
    ::poll(&p, 1, 100);
    waited_ms += 100;
  }
  return true;
}

std::string paused_pattern(std::string const& dest_in) {
  std::string dest = addr::lower(dest_in);
  if (dest.empty() || dest.find_first_of(" \t\n/") != std::string::npos) return "";
  if (dest == "local" || dest == "remote") return dest;
  if (dest.rfind("local:", 0) == 0 || dest.rfind("remote:", 0) == 0)
    return dest.back() == ':' ? "" : dest;
  if (dest.find(':') != std::string::npos) return "";
  return "remote:" + dest;
}

bool paused_read(std::vector<std::string>* out) {
  out->clear();
  std::string data;
  std::string fn = conf::control_dir() + "/paused";
  if (!read_file(fn.c_str(), &data, 1 << 20)) return errno == ENOENT;
  size_t pos = 0;
  while (pos < data.size()) {
    size_t nl = data.find('\n', pos);
    std::string l = data.substr(pos, nl == std::string::npos ? std::string::npos : nl - pos);
    pos = nl == std::string::npos ? data.size() : nl + 1;
    while (!l.empty() && (l.back() == ' ' || l.back() == '\t' || l.back() == '\r')) l.pop_back();
    if (!l.empty() && l[0] != '#') out->push_back(l);
  }
  return true;
}

bool paused_change(std::string const& dest, bool pause, bool* changed) {
  *changed = false;
  std::vector<std::string> v;
  if (!paused_read(&v)) return false;
  auto it = std::find(v.begin(), v.end(), dest);
  if (pause == (it != v.end())) return true;
  if (pause) v.push_back(dest);
  else v.erase(it);
  std::string data;
  for (auto const& l : v) data += l + "\n";
  if (!write_file_atomic(conf::control_dir() + "/paused", data, 0644)) return false;
  *changed = true;
  return true;
}

}  // namespace qf::queue
