// ISC license.
#include "queue/inject.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <map>

#include "sys/fs.h"
#include "sys/groupsync.h"

namespace qf::queue {

namespace {

// An unnamed new file (O_TMPFILE) in one of mess/'s split directories, taken
// in turn: on ext2/3/4 a file's inode comes from its directory's block group,
// and queue-fix spreads those directories over groups. Without a journal,
// ext4 skips every inode freed in a group in the last seconds before it
// reuses one, so the inodes of all messages from one group (pid/'s, or
// intd/'s) made each creation scan the queue's whole recent churn. -1 where
// the file system (or kernel) has no O_TMPFILE.
int open_unnamed(Layout const& q) {
  static unsigned turn = unsigned(::getpid()) * 2654435761u;
  std::string dir = q.is_split(Dir::mess) ? q.subdir(Dir::mess, turn++ % q.split()) : q.dir(Dir::mess);
  return ::open(dir.c_str(), O_TMPFILE | O_WRONLY | O_CLOEXEC, 0644);
}

// Gives the unnamed file fd the name path (linkat through /proc, which any
// process may do for its own descriptor).
int name_unnamed(int fd, std::string const& path) {
  std::string self = "/proc/self/fd/" + std::to_string(fd);
  return ::linkat(AT_FDCWD, self.c_str(), AT_FDCWD, path.c_str(), AT_SYMLINK_FOLLOW);
}

}  // namespace

// Whether the queue of v's messages is on a file system whose journal orders
// data before links (journal_orders_data).
bool Injection::ordered_journal(std::vector<Injection*> const& v) {
  return !v.empty() && journal_orders_data_cached(v[0]->mess_.get());
}

// The message's inode, unnamed until it is linked as mess/N: nothing to
// remove after a crash. false: make it the qmail way (pid/ file).
bool Injection::create_message_unnamed() {
  Fd fd(open_unnamed(q_));
  if (!fd.ok()) return false;
  struct stat st;
  if (::flock(fd.get(), LOCK_EX | LOCK_NB) < 0 || ::fstat(fd.get(), &st) < 0) return false;
  uint64_t id = uint64_t(st.st_ino);
  if (name_unnamed(fd.get(), q_.path(Dir::mess, id)) < 0) return false;
  failed_in_pid_ = false;
  id_ = id;
  made_mess_ = true;
  mess_ = std::move(fd);
  return true;
}

bool Injection::create_message(pid_t pid, uint64_t now) {
  if (create_message_unnamed()) return true;
  // qmail's private name: pid, time and a sequence number, nine tries.
  std::string pidfn;
  Fd fd;
  failed_in_pid_ = true;
  for (unsigned seq = 1;; seq++) {
    pidfn = q_.pid_file(pid, now, seq);
    fd.reset(::open(pidfn.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644));
    if (fd.ok()) break;
    if (errno != EEXIST || seq >= 9) return false;
  }
  // The lock goes on the inode, so it covers mess/N as well.
  if (::flock(fd.get(), LOCK_EX | LOCK_NB) < 0) {
    int e = errno;
    ::unlink(pidfn.c_str());
    errno = e;
    return false;
  }
  struct stat st;
  if (::fstat(fd.get(), &st) < 0) {
    int e = errno;
    ::unlink(pidfn.c_str());
    errno = e;
    return false;
  }
  failed_in_pid_ = false;
  id_ = uint64_t(st.st_ino);
  std::string messfn = q_.path(Dir::mess, id_);
  if (::link(pidfn.c_str(), messfn.c_str()) < 0) {
    int e = errno;
    ::unlink(pidfn.c_str());
    errno = e;
    return false;
  }
  made_mess_ = true;
  mess_ = std::move(fd);
  // A pid file that survives a crash is only a second link; sweeping reclaims it.
  ::unlink(pidfn.c_str());
  return true;
}

bool Injection::sync_message() { return ::fsync(mess_.get()) == 0; }

bool Injection::create_envelope() {
  std::string fn = q_.path(Dir::intd, id_);
  // Unnamed first as well (its inode from a mess/ group, not intd/'s), then
  // linked as intd/N; an intd/N already there fails as O_EXCL would.
  Fd fd(open_unnamed(q_));
  if (fd.ok() && name_unnamed(fd.get(), fn) == 0) {
    intd_ = std::move(fd);
    made_intd_ = true;
    return true;
  }
  if (fd.ok() && errno == EEXIST) return false;
  intd_.reset(::open(fn.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644));
  if (!intd_.ok()) return false;
  made_intd_ = true;
  return true;
}

bool Injection::commit() {
  auto fail = [this](Stage st) {
    int e = errno;
    stage_ = st;
    abort();
    errno = e;
    return false;
  };
  // Data of both files and the mess/ link must be durable before the todo/ link exists.
  if (::fsync(intd_.get()) < 0) return fail(Stage::sync_intd);
  if (!fsync_dir(q_.dir_of(Dir::mess, id_))) return fail(Stage::sync_mess_dir);
  std::string intdfn = q_.path(Dir::intd, id_);
  std::string todofn = q_.path(Dir::todo, id_);
  if (::link(intdfn.c_str(), todofn.c_str()) < 0) return fail(Stage::link_todo);
  // Linux needs the directory synced for the link to survive a crash.
  if (!fsync_dir(q_.dir_of(Dir::todo, id_))) {
    int e = errno;
    ::unlink(todofn.c_str());
    errno = e;
    return fail(Stage::sync_todo_dir);
  }
  committed_ = true;
  // Committed: todo-proc may take it now (it leaves a locked message alone,
  // so a failure above can still take todo/N back without a race).
  ::flock(mess_.get(), LOCK_UN);
  return true;
}

void Injection::commit_together(std::vector<Injection*> const& v, std::vector<int>* errs) {
  errs->assign(v.size(), 0);
  auto fail = [&](size_t i, Stage st, int e) {
    if ((*errs)[i]) return;
    v[i]->stage_ = st;
    v[i]->abort();
    (*errs)[i] = e ? e : EIO;
  };
  struct Sync {
    int fd;                   // a file, or -1 for a directory
    std::string const* dir;   // its path
    std::vector<size_t> who;  // the injections that need it
    Stage stage;
    int err = 0;
  };
  std::vector<Sync> syncs;
  std::map<std::string, size_t> dir_index;
  std::vector<std::string> dirs;
  dirs.reserve(2 * v.size());
  auto add_dir = [&](std::string d, size_t i, Stage st) {
    auto it = dir_index.find(d);
    if (it != dir_index.end()) {
      syncs[it->second].who.push_back(i);
      return;
    }
    dirs.push_back(std::move(d));
    dir_index.emplace(dirs.back(), syncs.size());
    syncs.push_back({-1, &dirs.back(), {i}, st});
  };
  auto run = [&] {
    run_parallel(syncs.size(), [&](size_t k) {
      Sync& y = syncs[k];
      bool ok = y.fd >= 0 ? ::fsync(y.fd) == 0 : fsync_dir(*y.dir);
      if (!ok) y.err = errno ? errno : EIO;
      return ok;
    });
  };
  auto fail_synced = [&](bool linked) {
    for (auto const& y : syncs)
      if (y.err)
        for (size_t i : y.who) {
          if (linked && !(*errs)[i]) ::unlink(v[i]->q_.path(Dir::todo, v[i]->id_).c_str());
          fail(i, y.stage, y.err);
        }
  };
  size_t last_linked = 0;  // syncs' index of the directory of the batch's last todo/ link
  auto link_todo = [&] {
    for (size_t i = 0; i < v.size(); i++) {
      if ((*errs)[i]) continue;
      Injection* j = v[i];
      if (::link(j->q_.path(Dir::intd, j->id_).c_str(), j->q_.path(Dir::todo, j->id_).c_str()) < 0) {
        fail(i, Stage::link_todo, errno);
        continue;
      }
      std::string d = j->q_.dir_of(Dir::todo, j->id_);
      add_dir(d, i, Stage::sync_todo_dir);
      last_linked = dir_index[d];
    }
  };
  if (ordered_journal(v)) {
    // A journal that orders data before links (ext4 data=ordered, xfs): the
    // data of both files is written out first (no commit, no flush), so
    // that any commit holding a todo/ link holds their sizes too and comes
    // after their data. Then one fsync makes all of it durable: that of the
    // directory of the batch's last todo/ link. The link is the batch's
    // last change, and the journal commits in order, so the commit that
    // makes it durable holds every change before it (the files' sizes, the
    // mess/ and intd/ entries, the other links) and its cache flush covers
    // the data written out before. One commit and one flush per turn; an
    // fsync of each file and directory as well would wait for the same
    // commit, and each one that came after it would flush the device again.
    std::vector<int> fds, werrs;
    for (Injection* j : v) {
      fds.push_back(j->mess_.get());
      fds.push_back(j->intd_.get());
    }
    write_out(fds, &werrs);
    for (size_t i = 0; i < v.size(); i++)
      if (int e = werrs[2 * i] ? werrs[2 * i] : werrs[2 * i + 1]) fail(i, Stage::sync_intd, e);
    link_todo();
    if (!syncs.empty()) {
      // Every linked injection waits on that one fsync.
      Sync last{-1, syncs[last_linked].dir, {}, Stage::sync_todo_dir};
      for (auto const& y : syncs) last.who.insert(last.who.end(), y.who.begin(), y.who.end());
      syncs.assign(1, std::move(last));
    }
    run();
    fail_synced(true);
  } else {
    // 1. Each message's data, envelope and mess/ entry; every mess/ directory once.
    for (size_t i = 0; i < v.size(); i++) {
      Injection* j = v[i];
      syncs.push_back({j->mess_.get(), nullptr, {i}, Stage::sync_intd});  // qmail-queue: sync_message
      syncs.push_back({j->intd_.get(), nullptr, {i}, Stage::sync_intd});
      add_dir(j->q_.dir_of(Dir::mess, j->id_), i, Stage::sync_mess_dir);
    }
    run();
    fail_synced(false);
    // 2. The todo/ links of those that got through, then every todo/ directory once.
    syncs.clear();
    dir_index.clear();
    dirs.clear();
    link_todo();
    run();
    fail_synced(true);
  }
  for (size_t i = 0; i < v.size(); i++) {
    if ((*errs)[i]) continue;
    v[i]->committed_ = true;
    ::flock(v[i]->mess_.get(), LOCK_UN);
  }
}

void Injection::abort() {
  if (committed_) return;
  if (made_intd_) {
    ::unlink(q_.path(Dir::intd, id_).c_str());
    made_intd_ = false;
  }
  if (made_mess_) {
    ::unlink(q_.path(Dir::mess, id_).c_str());
    made_mess_ = false;
  }
  intd_.reset();
  mess_.reset();
}

}  // namespace qf::queue
