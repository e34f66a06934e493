// ISC license.
#include "queue/hold.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf/users.h"
#include "sys/fd.h"
#include "sys/fs.h"

namespace qf::queue {

namespace {
bool older(struct timespec const& a, struct timespec const& b) {
  return a.tv_sec < b.tv_sec || (a.tv_sec == b.tv_sec && a.tv_nsec < b.tv_nsec);
}
}  // namespace

HoldState hold_state(Layout const& q, uint64_t id) {
  struct stat h, m;
  if (::lstat(q.path(Dir::hold, id).c_str(), &h) < 0) return errno == ENOENT ? HoldState::none : HoldState::trouble;
  if (::lstat(q.path(Dir::mess, id).c_str(), &m) < 0) {
    // No message: nothing to hold; queue-fix or the finisher removes it.
    return errno == ENOENT ? HoldState::stale : HoldState::trouble;
  }
  return older(h.st_mtim, m.st_mtim) ? HoldState::stale : HoldState::held;
}

bool hold_create(Layout const& q, uint64_t id, time_t now, std::string_view reason, bool* created,
                 bool sync) {
  if (created) *created = false;
  std::string fn = q.path(Dir::hold, id);
  Fd fd(::open(fn.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600));
  if (!fd.ok()) return errno == EEXIST;
  std::string line = fmt_u64(uint64_t(now)) + " ";
  for (char c : reason) line.push_back(c == '\n' || c == '\r' || c == '\0' ? ' ' : c);
  line.push_back('\n');
  bool ok = write_all(fd.get(), line) && (!sync || ::fsync(fd.get()) == 0);
  if (ok && ::geteuid() == 0) {
    conf::Account qs;
    gid_t g;
    if (conf::find_user(conf::User::qmails, &qs) && conf::find_group(kGroup, &g))
      ok = ::fchown(fd.get(), qs.uid, g) == 0;
  }
  if (ok && sync) ok = fsync_dir(q.dir(Dir::hold));
  if (!ok) {
    int e = errno;
    ::unlink(fn.c_str());
    errno = e;
    return false;
  }
  if (created) *created = true;
  return true;
}

bool hold_remove(Layout const& q, uint64_t id, bool sync) {
  if (::unlink(q.path(Dir::hold, id).c_str()) < 0) return errno == ENOENT;
  return !sync || fsync_dir(q.dir(Dir::hold));
}

bool hold_read(Layout const& q, uint64_t id, time_t* when, std::string* reason) {
  std::string data;
  if (!read_file(q.path(Dir::hold, id).c_str(), &data, 4096)) return false;
  while (!data.empty() && data.back() == '\n') data.pop_back();
  size_t sp = data.find(' ');
  uint64_t t;
  if (sp != std::string::npos && scan_u64(data.substr(0, sp), &t)) {
    *when = time_t(t);
    *reason = data.substr(sp + 1);
  } else {
    *when = 0;
    *reason = data;
  }
  return true;
}

}  // namespace qf::queue
