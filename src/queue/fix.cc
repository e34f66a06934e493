// ISC license.
#include "queue/fix.h"

#include "queue/hold.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <algorithm>
#include <vector>

#include "conf/users.h"
#include "sys/fd.h"
#include "sys/fs.h"

namespace qf::queue {

bool resolve_owners(Owners* out, std::string* err) {
  if (!conf::privileged()) {
    for (auto& u : out->uid) u = ::getuid();
    out->gid = ::getgid();
    return true;
  }
  for (int i = 0; i < 8; i++) {
    conf::Account a;
    if (!conf::find_user(conf::User(i), &a)) {
      *err = std::string("unable to find user ") + conf::user_name(conf::User(i)) +
             " (run package/users)";
      return false;
    }
    out->uid[i] = a.uid;
  }
  if (!conf::find_group(kGroup, &out->gid)) {
    *err = std::string("unable to find group ") + conf::group_name(kGroup) +
           " (run package/users)";
    return false;
  }
  return true;
}

namespace {

// Marks a new queue's root as the top of a directory hierarchy (chattr +T):
// ext2/3/4 then place its directories in different block groups instead of
// beside the root. Every file of a queue is created in one of them (pid/,
// intd/, info/N, local/N, remote/N), so each directory allocates its inodes
// from its own group: on ext4 without a journal an allocation skips every
// inode freed in its group in the last few seconds, and with one group for
// the whole queue that scan grows with the delivery rate. Only a hint: file
// systems without the flag refuse it, and nothing depends on it.
void mark_topdir(std::string const& p) {
  Fd fd(::open(p.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NONBLOCK));
  int flags = 0;
  if (!fd.ok() || ::ioctl(fd.get(), FS_IOC_GETFLAGS, &flags) < 0 || (flags & FS_TOPDIR_FL)) return;
  flags |= FS_TOPDIR_FL;
  (void)::ioctl(fd.get(), FS_IOC_SETFLAGS, &flags);
}

std::string octal(mode_t m) {
  char buf[8];
  snprintf(buf, sizeof buf, "%04o", unsigned(m & 07777));
  return buf;
}

class Fixer {
 public:
  Fixer(Layout const& q, FixOptions const& o, FixReport const& r) : q_(q), o_(o), r_(r) {}

  FixResult run() {
    bool made = ensure_dir(q_.root(), o_.owners.of(kRootOwner), kRootMode, true);
    if (res_.failed) return res_;
    {
      Fd root(::open(q_.root().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NONBLOCK));
      dirsync_ = root.ok() && journal_less(root.get());
    }
    if (dirsync_) ensure_dirsync(q_.root(), made);
    struct stat st;
    bool fresh = !o_.dry_run && ::lstat(q_.dir(Dir::mess).c_str(), &st) < 0 && errno == ENOENT;
    if (fresh) mark_topdir(q_.root());  // a new queue: before its directories exist
    auto dir = [&](std::string const& p, conf::User owner, mode_t mode) {
      bool m = ensure_dir(p, o_.owners.of(owner), mode, false);
      if (dirsync_) ensure_dirsync(p, m);
    };
    for (DirSpec const& s : dir_specs()) {
      dir(q_.dir(s.dir), s.owner, s.mode);
      // And each split directory's subdirectories apart from each other, so
      // that the files of one kind come from split() groups, not one.
      if (fresh && q_.is_split(s.dir)) mark_topdir(q_.dir(s.dir));
      if (q_.is_split(s.dir))
        for (unsigned i = 0; i < q_.split(); i++) dir(q_.subdir(s.dir, i), s.owner, s.mode);
    }
    for (LockSpec const& l : lock_specs()) ensure_lock(l);
    if (res_.failed) return res_;
    for (DirSpec const& s : dir_specs()) walk(s);
    check_consistency();
    return res_;
  }

 private:
  void change(std::string const& what) {
    res_.changes++;
    if (r_.change) r_.change((o_.dry_run ? "would " : "") + what);
  }
  void problem(std::string const& what) {
    res_.problems++;
    if (r_.problem) r_.problem(what);
  }
  void error(std::string const& what) {
    res_.failed = true;
    if (r_.error) r_.error(what + ": " + std::strerror(errno));
  }

  void fix_owner_mode(std::string const& p, struct stat const& st, uid_t uid, mode_t mode) {
    gid_t gid = o_.owners.gid;
    if (st.st_uid != uid || st.st_gid != gid) {
      change("chown " + p + " to " + fmt_u64(uid) + ":" + fmt_u64(gid));
      if (!o_.dry_run && ::lchown(p.c_str(), uid, gid) < 0) error("unable to chown " + p);
    }
    if ((st.st_mode & 07777) != mode) {
      change("chmod " + p + " from " + octal(st.st_mode) + " to " + octal(mode));
      if (!o_.dry_run && ::chmod(p.c_str(), mode) < 0) error("unable to chmod " + p);
    }
  }

  // Whether it made p.
  bool ensure_dir(std::string const& p, uid_t uid, mode_t mode, bool parents) {
    struct stat st;
    // The root may be a symlink to the real queue; nothing below it may.
    if ((parents ? ::stat(p.c_str(), &st) : ::lstat(p.c_str(), &st)) == 0) {
      if (!S_ISDIR(st.st_mode)) {
        problem(p + " is not a directory (move it aside; queue-fix will not)");
        return false;
      }
      fix_owner_mode(p, st, uid, mode);
      return false;
    }
    if (errno != ENOENT) return error("unable to stat " + p), false;
    change("create directory " + p);
    if (o_.dry_run) return true;
    if (parents && !mkdir_p(dir_of(p), 0755)) return error("unable to create " + dir_of(p)), false;
    if (::mkdir(p.c_str(), mode) < 0) return error("unable to create " + p), false;
    if (::chown(p.c_str(), uid, o_.owners.gid) < 0) return error("unable to chown " + p), true;
    if (::chmod(p.c_str(), mode) < 0) return error("unable to chmod " + p), true;
    return true;
  }

  // On ext2/3/4 without a journal (journal_less) every directory of the
  // queue writes its changes at once (chattr +D): a removal that a power cut
  // undid would otherwise name, after fsck, an inode a new file has taken
  // (a queued message's mess/N with a second name is never delivered).
  // qmail asked for synchronous directories there too. With a journal a
  // removal and the inode's reuse commit in order, and the flag would only
  // cost a commit per change: it is neither set nor taken away. A directory
  // made now gets it without a line of its own.
  void ensure_dirsync(std::string const& p, bool made) {
    Fd fd(::open(p.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NONBLOCK | O_NOFOLLOW));
    int flags = 0;
    if (!fd.ok()) return;  // missing (a dry run) or not a directory: reported already
    if (::ioctl(fd.get(), FS_IOC_GETFLAGS, &flags) < 0) return error("unable to read the attributes of " + p);
    if (flags & FS_DIRSYNC_FL) return;
    if (!made) change("set synchronous directory updates (chattr +D) on " + p + ": its file system has no journal");
    flags |= FS_DIRSYNC_FL;
    if (!o_.dry_run && ::ioctl(fd.get(), FS_IOC_SETFLAGS, &flags) < 0)
      error("unable to set synchronous directory updates on " + p);
  }

  void ensure_lock(LockSpec const& l) {
    std::string p = q_.lock(l.name);
    uid_t uid = o_.owners.of(l.owner);
    struct stat st;
    if (::lstat(p.c_str(), &st) == 0) {
      bool right = l.fifo ? S_ISFIFO(st.st_mode) : S_ISREG(st.st_mode);
      if (!right) {
        problem(p + " has the wrong file type (remove it; queue-fix will recreate it)");
        return;
      }
      fix_owner_mode(p, st, uid, l.mode);
      return;
    }
    if (errno != ENOENT) return error("unable to stat " + p);
    change(std::string("create ") + (l.fifo ? "fifo " : "file ") + p);
    if (o_.dry_run) return;
    if (l.fifo) {
      if (::mkfifo(p.c_str(), l.mode) < 0) return error("unable to create " + p);
    } else {
      Fd fd(::open(p.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, l.mode));
      if (!fd.ok()) return error("unable to create " + p);
      std::string zeros(l.size, '\0');
      if (!write_all(fd.get(), zeros) || ::fsync(fd.get()) < 0 || !fd.close())
        return error("unable to write " + p);
    }
    if (::chown(p.c_str(), uid, o_.owners.gid) < 0) return error("unable to chown " + p);
    if (::chmod(p.c_str(), l.mode) < 0) return error("unable to chmod " + p);
  }

  static bool numeric(char const* s, uint64_t* n) { return scan_u64(s, n); }

  static std::vector<std::string> list(std::string const& dir) {
    std::vector<std::string> v;
    DIR* d = ::opendir(dir.c_str());
    if (!d) return v;
    while (struct dirent* e = ::readdir(d))
      if (std::strcmp(e->d_name, ".") && std::strcmp(e->d_name, "..")) v.emplace_back(e->d_name);
    ::closedir(d);
    return v;
  }

  // Puts message file `from` (id n of directory s) where the layout wants it.
  void place(DirSpec const& s, std::string const& from, uint64_t n) {
    std::string to = q_.path(s.dir, n);
    ids_[size_t(s.dir)].push_back(n);
    struct stat st;
    if (::lstat(from.c_str(), &st) < 0) return error("unable to stat " + from);
    if (!S_ISREG(st.st_mode)) {
      problem(from + " is not a regular file");
      return;
    }
    std::string where = from;
    if (from != to) {
      struct stat st2;
      if (::lstat(to.c_str(), &st2) == 0) {
        problem(from + " belongs at " + to + ", which exists already");
        return;
      }
      change("move " + from + " to " + to);
      if (!o_.dry_run) {
        if (::rename(from.c_str(), to.c_str()) < 0) return error("unable to move " + from);
        where = to;
      }
    }
    // info/N at 0400 records a sent delay warning (qmail-send(8)): kept.
    mode_t want = s.dir == Dir::info && (st.st_mode & 07777) == 0400 ? 0400 : s.file_mode;
    if (s.file_mode) fix_owner_mode(where, st, o_.owners.of(s.owner), want);
    if (s.dir == Dir::mess && uint64_t(st.st_ino) != n)
      problem(where + " has inode " + fmt_u64(st.st_ino) +
              ", not its name: the id is not unique (restored from a backup?)");
  }

  void walk(DirSpec const& s) {
    if (s.dir == Dir::lock || s.dir == Dir::pid || s.dir == Dir::corrupt) {
      if (s.dir == Dir::lock) {
        for (auto const& name : list(q_.dir(s.dir))) {
          bool known = false;
          for (LockSpec const& l : lock_specs()) known |= name == l.name;
          if (!known && name.find(".tmp") == std::string::npos)
            problem("stray file " + q_.dir(s.dir) + "/" + name);
        }
      }
      return;
    }
    std::string top = q_.dir(s.dir);
    bool split = q_.is_split(s.dir);
    // Collect first, then move: a file moved into a bucket must not be seen twice.
    std::vector<std::pair<std::string, uint64_t>> files;
    std::vector<std::string> emptied;
    for (auto const& name : list(top)) {
      std::string p = top + "/" + name;
      uint64_t n;
      struct stat st;
      if (::lstat(p.c_str(), &st) < 0) continue;
      if (!numeric(name.c_str(), &n)) {
        problem("stray " + std::string(S_ISDIR(st.st_mode) ? "directory " : "file ") + p);
        continue;
      }
      if (!S_ISDIR(st.st_mode)) {
        files.emplace_back(p, n);  // a flat file: right in a flat dir, misplaced in a split one
        continue;
      }
      // A numeric subdirectory: a bucket of this split, or of an older one.
      for (auto const& f : list(p)) {
        uint64_t m;
        if (!numeric(f.c_str(), &m)) {
          problem("stray file " + p + "/" + f);
          continue;
        }
        files.emplace_back(p + "/" + f, m);
      }
      if (!split || n >= q_.split()) emptied.push_back(p);
    }
    for (auto const& [p, n] : files) place(s, p, n);
    for (auto const& p : emptied) {
      change("remove emptied directory " + p);
      if (!o_.dry_run && ::rmdir(p.c_str()) < 0) {
        if (errno == ENOTEMPTY || errno == EEXIST)
          problem(p + " is not empty and not part of the layout");
        else
          error("unable to remove " + p);
      }
    }
  }

  void check_consistency() {
    auto& mess = ids_[size_t(Dir::mess)];
    std::sort(mess.begin(), mess.end());
    for (Dir d : {Dir::intd, Dir::todo, Dir::info, Dir::local, Dir::remote, Dir::bounce})
      for (uint64_t n : ids_[size_t(d)])
        if (!std::binary_search(mess.begin(), mess.end(), n))
          problem(q_.path(d, n) + " has no message in mess/ (orphan)");
    // defer/N only tells the last status of a message's recipients
    // (qmail-send(8) STATUS RECORDS): without its message it tells nothing.
    for (uint64_t n : ids_[size_t(Dir::defer)])
      if (!std::binary_search(mess.begin(), mess.end(), n)) {
        std::string p = q_.path(Dir::defer, n);
        change("remove " + p + ": its message is gone");
        if (!o_.dry_run && ::unlink(p.c_str()) < 0 && errno != ENOENT) error("unable to remove " + p);
      }
    // hold/N holds a message (qmail-qsuper(8)); one whose message is gone, or
    // older than its message (an earlier message's), holds nothing: removed.
    auto& info = ids_[size_t(Dir::info)];
    auto& todo = ids_[size_t(Dir::todo)];
    std::sort(info.begin(), info.end());
    std::sort(todo.begin(), todo.end());
    for (uint64_t n : ids_[size_t(Dir::hold)]) {
      bool live = std::binary_search(mess.begin(), mess.end(), n) &&
                  (std::binary_search(info.begin(), info.end(), n) || std::binary_search(todo.begin(), todo.end(), n));
      if (live && hold_state(q_, n) != HoldState::stale) continue;
      std::string p = q_.path(Dir::hold, n);
      change("remove " + p + ": its message is gone");
      if (!o_.dry_run && ::unlink(p.c_str()) < 0 && errno != ENOENT) error("unable to remove " + p);
    }
  }

  Layout const& q_;
  FixOptions const& o_;
  FixReport const& r_;
  FixResult res_;
  bool dirsync_ = false;  // the queue's file system has no journal
  std::vector<uint64_t> ids_[size_t(Dir::lock) + 1];
};

}  // namespace

FixResult fix_queue(Layout const& q, FixOptions const& o, FixReport const& r) {
  return Fixer(q, o, r).run();
}

}  // namespace qf::queue
