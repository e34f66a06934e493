// ISC license.
#include "deliver/maildir.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include <vector>

#include "deliver/message.h"
#include "deliver/watchdog.h"
#include "sys/fd.h"
#include "sys/fs.h"
#include "sys/groupsync.h"

namespace qf::deliver {

namespace {

unsigned long g_counter = 0;

// Read once per process: a delivery worker makes many names.
std::string const& hostname() {
  static std::string const host = [] {
    char buf[256];
    if (::gethostname(buf, sizeof buf - 1) < 0) return std::string("localhost");
    buf[sizeof buf - 1] = 0;
    return std::string(buf);
  }();
  return host;
}

Outcome fail(std::string const& dir, char const* what, std::string const& object, int err) {
  return Outcome::temp("Unable to deliver to maildir " + dir + ": unable to " + what + " " +
                       object + ": " + error_text(err) +
                       (is_full(err) ? ". (#4.2.2)" : ". (#4.3.0)"));
}

// A rename that never replaces (qmail's link, then unlink, in one step: an
// existing new/ name fails with EEXIST as link would); where the file system
// cannot (EINVAL), qmail's linkat.
int publish(int mdfd, std::string const& tmp, std::string const& fresh, bool* linked) {
  *linked = false;
  if (::renameat2(mdfd, tmp.c_str(), mdfd, fresh.c_str(), RENAME_NOREPLACE) == 0) return 0;
  if (errno != EINVAL && errno != ENOSYS) return -1;
  if (::linkat(mdfd, tmp.c_str(), mdfd, fresh.c_str(), 0) < 0) return -1;
  *linked = true;
  return 0;
}

}  // namespace

std::string maildir_name(struct timespec const& now, pid_t pid, unsigned long n,
                         std::string_view host) {
  std::string r = fmt_u64(uint64_t(now.tv_sec));
  r += ".M";
  r += fmt_u64(uint64_t(now.tv_nsec / 1000));
  r += 'P';
  r += fmt_u64(uint64_t(pid));
  r += 'Q';
  r += fmt_u64(n);
  r += '.';
  for (char c : host) {
    if (c == '/')
      r += "\\057";
    else if (c == ':')
      r += "\\072";
    else
      r += c;
  }
  return r;
}

Outcome deliver_maildir(int dirfd, std::string const& dir, std::string_view prefix, int messfd,
                        std::string* file) {
  Fd md(::openat(dirfd, dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!md.ok())
    return Outcome::temp("Unable to open maildir " + dir + ": " + error_text(errno) +
                         ". (#4.2.1)");
  std::string const& host = hostname();
  std::string name, tmp;
  Fd fd;
  for (int tries = 0; tries < 5; tries++) {
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    name = maildir_name(now, getpid(), ++g_counter, host);
    tmp = "tmp/" + name;
    fd.reset(::openat(md.get(), tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
                      0600));
    if (fd.ok() || errno != EEXIST) break;
  }
  if (!fd.ok()) return fail(dir, "create", tmp, errno);
  watchdog_tmpfile(md.get(), tmp.c_str());
  auto undo = [&](char const* what, std::string const& object, int err) {
    fd.reset();
    ::unlinkat(md.get(), tmp.c_str(), 0);
    watchdog_tmpfile(-1, nullptr);
    return fail(dir, what, object, err);
  };

  if (!write_all(fd.get(), prefix)) return undo("write", tmp, errno);
  bool read_failed;
  if (!copy_message(messfd, fd.get(), &read_failed)) {
    if (read_failed) {
      int e = errno;
      undo("read", "the message", e);
      return Outcome::temp("Unable to read message: " + error_text(e) + ". (#4.3.0)");
    }
    return undo("write", tmp, errno);
  }
  // Where the journal orders data before later changes of the tree (ext4
  // data=ordered, xfs), the file is written out only: its size and blocks go
  // into the journal before the new/ entry below, and the one fsync of new/
  // commits all three. Elsewhere the file is fsynced first, as qmail does.
  if (journal_orders_data_cached(fd.get())) {
    std::vector<int> errs;
    write_out({fd.get()}, &errs);
    if (errs[0]) return undo("write out", tmp, errs[0]);
  } else if (::fsync(fd.get()) < 0) {
    return undo("fsync", tmp, errno);
  }
  if (!fd.close()) return undo("close", tmp, errno);

  std::string fresh = "new/" + name;
  bool linked = false;
  if (publish(md.get(), tmp, fresh, &linked) < 0) return undo("link to", fresh, errno);
  if (linked) ::unlinkat(md.get(), tmp.c_str(), 0);
  watchdog_tmpfile(-1, nullptr);
  Fd newdir(::openat(md.get(), "new", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!newdir.ok() || !fsync_dir_fd(newdir.get()))
    return fail(dir, "fsync", "new/", errno);
  if (file) *file = name;
  return Outcome::success();
}

}  // namespace qf::deliver
