// ISC license.
#include "queue/inject.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sys/fs.h"

namespace qf::queue {

bool Injection::create_message(pid_t pid, uint64_t now) {
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
