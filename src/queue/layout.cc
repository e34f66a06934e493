// ISC license.
#include "queue/layout.h"

#include <errno.h>
#include <sys/stat.h>

#include "conf/paths.h"
#include "sys/fs.h"

namespace qf::queue {

using conf::User;

namespace {

// Owners and modes follow qmail's hier.c; defer/, hold/ and corrupt/ are Postfix's.
constexpr DirSpec kDirs[] = {
    {Dir::pid, "pid", User::qmailq, 0700, 0, SplitKind::flat},
    {Dir::intd, "intd", User::qmailq, 0700, 0644, SplitKind::bigtodo},
    {Dir::todo, "todo", User::qmailq, 0750, 0644, SplitKind::bigtodo},
    {Dir::mess, "mess", User::qmailq, 0750, 0644, SplitKind::split},
    {Dir::info, "info", User::qmails, 0700, 0600, SplitKind::split},
    {Dir::local, "local", User::qmails, 0700, 0600, SplitKind::split},
    {Dir::remote, "remote", User::qmails, 0700, 0600, SplitKind::split},
    {Dir::bounce, "bounce", User::qmails, 0700, 0600, SplitKind::flat},
    {Dir::defer, "defer", User::qmails, 0700, 0600, SplitKind::split},
    {Dir::hold, "hold", User::qmails, 0700, 0600, SplitKind::flat},
    {Dir::corrupt, "corrupt", User::qmails, 0700, 0, SplitKind::flat},
    {Dir::lock, "lock", User::qmailq, 0750, 0, SplitKind::flat},
};

constexpr LockSpec kLocks[] = {
    {"sendmutex", User::qmails, 0600, false, 0},
    {"todomutex", User::qmails, 0600, false, 0},
    {"drain", User::qmailq, 0644, false, 0},
    {"tcpto", User::qmailr, 0644, false, 2048},  // remote/tcpto.h
    {"trigger", User::qmails, 0622, true, 0},
};

}  // namespace

std::span<DirSpec const> dir_specs() { return kDirs; }
std::span<LockSpec const> lock_specs() { return kLocks; }

DirSpec const& spec(Dir d) { return kDirs[size_t(d)]; }

Layout::Layout(std::string root, unsigned split, bool bigtodo)
    : root_(std::move(root)), split_(split ? split : 1), bigtodo_(bigtodo) {
  while (root_.size() > 1 && root_.back() == '/') root_.pop_back();
}

Layout Layout::from_env(std::string root) {
  return Layout(std::move(root), conf::split(), conf::bigtodo());
}

bool Layout::is_split(Dir d) const {
  switch (spec(d).split) {
    case SplitKind::flat: return false;
    case SplitKind::split: return true;
    case SplitKind::bigtodo: return bigtodo_;
  }
  return false;
}

std::string Layout::dir(Dir d) const { return root_ + '/' + spec(d).name; }

std::string Layout::subdir(Dir d, unsigned n) const { return dir(d) + '/' + fmt_u64(n); }

std::string Layout::dir_of(Dir d, uint64_t id) const {
  return is_split(d) ? subdir(d, bucket(id)) : dir(d);
}

std::string Layout::path(Dir d, uint64_t id) const { return dir_of(d, id) + '/' + fmt_u64(id); }

std::string Layout::relpath(Dir d, uint64_t id) const {
  std::string r = spec(d).name;
  r += '/';
  if (is_split(d)) {
    r += fmt_u64(bucket(id));
    r += '/';
  }
  r += fmt_u64(id);
  return r;
}

std::string Layout::lock(char const* name) const { return root_ + "/lock/" + name; }

std::string Layout::pid_file(pid_t pid, uint64_t time, unsigned seq) const {
  return dir(Dir::pid) + '/' + fmt_u64(uint64_t(pid)) + '.' + fmt_u64(time) + '.' + fmt_u64(seq);
}

bool layout_matches(Layout const& q) {
  struct stat st;
  // Only a definite disagreement counts. No mess/ at all, or directories we
  // may not look into, are left to the injection itself to report (6x).
  if (::stat(q.dir(Dir::mess).c_str(), &st) < 0) return true;
  if (::stat(q.subdir(Dir::mess, q.split() - 1).c_str(), &st) < 0) return errno == EACCES;
  if (::stat(q.subdir(Dir::mess, q.split()).c_str(), &st) == 0) return false;
  if (errno == EACCES) return true;
  bool todo_split = ::stat(q.subdir(Dir::todo, 0).c_str(), &st) == 0;
  if (!todo_split && errno == EACCES) return true;
  return todo_split == q.bigtodo();
}

State classify(Presence const& p) {
  if (!p.mess) {
    bool any = p.intd || p.todo || p.info || p.local || p.remote || p.bounce;
    return any ? State::bad : State::S1;
  }
  if (p.todo) return p.bounce ? State::bad : State::S4;
  if (p.info) return p.intd ? State::bad : State::S5;
  if (p.local || p.remote || p.bounce) return State::bad;
  return p.intd ? State::S3 : State::S2;
}

char const* state_name(State s) {
  switch (s) {
    case State::S1: return "S1 (absent)";
    case State::S2: return "S2 (message only)";
    case State::S3: return "S3 (envelope being written)";
    case State::S4: return "S4 (queued)";
    case State::S5: return "S5 (pre-processed)";
    case State::bad: return "inconsistent";
  }
  return "?";
}

Presence probe(Layout const& q, uint64_t id) {
  struct stat st;
  auto has = [&](Dir d) { return ::lstat(q.path(d, id).c_str(), &st) == 0; };
  Presence p;
  p.mess = has(Dir::mess);
  p.intd = has(Dir::intd);
  p.todo = has(Dir::todo);
  p.info = has(Dir::info);
  p.local = has(Dir::local);
  p.remote = has(Dir::remote);
  p.bounce = has(Dir::bounce);
  return p;
}

}  // namespace qf::queue
