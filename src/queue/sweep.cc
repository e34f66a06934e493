// ISC license.
#include "queue/sweep.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>

#include "queue/scan.h"
#include "sys/fd.h"

namespace qf::queue {

bool held_by_injector(char const* path) {
  Fd fd(::open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK));
  if (!fd.ok()) return false;
  if (::flock(fd.get(), LOCK_EX | LOCK_NB) < 0) return errno == EWOULDBLOCK;
  ::flock(fd.get(), LOCK_UN);
  return false;
}

unsigned sweep_pid(Layout const& q, time_t now) {
  std::string dir = q.dir(Dir::pid);
  DIR* d = ::opendir(dir.c_str());
  if (!d) return 0;
  unsigned n = 0;
  while (struct dirent* e = ::readdir(d)) {
    if (e->d_name[0] == '.') continue;
    std::string fn = dir + '/' + e->d_name;
    struct stat st;
    if (::lstat(fn.c_str(), &st) < 0 || !S_ISREG(st.st_mode)) continue;
    bool old = now > st.st_mtime && now - st.st_mtime > kPidGrace;
    if (!old || held_by_injector(fn.c_str())) continue;
    if (::unlink(fn.c_str()) == 0) n++;
  }
  ::closedir(d);
  return n;
}

unsigned sweep_orphan_envelopes(Layout const& q) {
  unsigned n = 0;
  struct stat st;
  for (uint64_t id : list_ids(q, Dir::intd)) {
    if (::lstat(q.path(Dir::mess, id).c_str(), &st) == 0 || errno != ENOENT) continue;
    if (::lstat(q.path(Dir::todo, id).c_str(), &st) == 0 || errno != ENOENT) continue;
    if (::unlink(q.path(Dir::intd, id).c_str()) == 0) n++;
  }
  return n;
}

bool reclaimable(Layout const& q, uint64_t id, time_t now) {
  State s = classify(probe(q, id));
  if (s != State::S2 && s != State::S3) return false;
  (void)now;
  return !held_by_injector(q.path(Dir::mess, id).c_str());
}

bool remove_leftover(Layout const& q, uint64_t id) {
  bool ok = true;
  if (::unlink(q.path(Dir::intd, id).c_str()) < 0 && errno != ENOENT) ok = false;
  if (::unlink(q.path(Dir::mess, id).c_str()) < 0 && errno != ENOENT) ok = false;
  return ok;
}

}  // namespace qf::queue
