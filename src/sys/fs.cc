// ISC license.
#include "sys/fs.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <climits>

#include "sys/fd.h"

namespace qf {

bool write_all(int fd, char const* buf, size_t len) {
  while (len) {
    ssize_t w = ::write(fd, buf, len);
    if (w < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    buf += w;
    len -= size_t(w);
  }
  return true;
}

ssize_t read_full(int fd, char* buf, size_t len) {
  size_t got = 0;
  while (got < len) {
    ssize_t r = ::read(fd, buf + got, len - got);
    if (r < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    if (!r) break;
    got += size_t(r);
  }
  return ssize_t(got);
}

int open_dir(char const* path) {
  return ::open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

bool fsync_dir(char const* path) {
  Fd d(open_dir(path));
  return d.ok() && fsync_dir_fd(d.get());
}

bool fsync_parent(std::string const& path) { return fsync_dir(dir_of(path)); }

namespace {

constexpr long kXfsMagic = 0x58465342, kExtMagic = 0xEF53;  // XFS_SUPER_MAGIC, EXT4_SUPER_MAGIC

}  // namespace

// xfs forces its log for a directory's fsync only while the directory's
// inode is pinned (has changes not yet in the log on disk), and its fsync of
// a directory never asks whether the file system has shut down. A shutdown
// (after an I/O error, or xfs_io's) throws away the changes not yet written
// and unpins their inodes: an fsync that comes after it returns 0 for a link
// that is gone. Its readdir does ask, and fails with EIO: reading the first
// entries after the fsync tells a shutdown from a commit. ext4 asks in fsync.
bool fsync_dir_fd(int fd) {
  if (::fsync(fd) < 0) return errno == EINVAL;
  struct statfs sf;
  if (::fstatfs(fd, &sf) < 0) return false;
  if (sf.f_type != kXfsMagic) return true;
  alignas(8) char buf[512];
  return ::lseek(fd, 0, SEEK_SET) == 0 && ::syscall(SYS_getdents64, fd, buf, sizeof buf) >= 0;
}

namespace {

// ext2/3/4 share the magic: the mount's options tell them apart
// (/proc/fs/ext4/DEV/options lists data=MODE only when there is a journal).
// The options, one per line, of the ext file system fd is on; false when it
// is not on one, or they cannot be read.
bool ext_options(int fd, long* magic, std::string* opts) {
  struct statfs sf;
  struct stat st;
  *magic = 0;
  if (::fstatfs(fd, &sf) < 0 || ::fstat(fd, &st) < 0) return false;
  *magic = long(sf.f_type);
  if (*magic != kExtMagic) return false;
  std::string dev = "/sys/dev/block/" + fmt_u64(major(st.st_dev)) + ":" + fmt_u64(minor(st.st_dev));
  char target[PATH_MAX];
  ssize_t n = ::readlink(dev.c_str(), target, sizeof target - 1);
  if (n <= 0) return false;
  std::string_view name(target, size_t(n));
  if (auto slash = name.rfind('/'); slash != std::string_view::npos) name.remove_prefix(slash + 1);
  return !name.empty() && read_file(("/proc/fs/ext4/" + std::string(name) + "/options").c_str(), opts, 1 << 16);
}

// Whether one of opts' lines is line, or (with prefix) begins with it.
bool has_option(std::string_view opts, std::string_view line, bool prefix) {
  size_t pos = 0;
  while (pos < opts.size()) {
    size_t end = opts.find('\n', pos);
    if (end == std::string_view::npos) end = opts.size();
    std::string_view opt = opts.substr(pos, end - pos);
    if (prefix ? opt.substr(0, line.size()) == line : opt == line) return true;
    pos = end + 1;
  }
  return false;
}

}  // namespace

bool journal_orders_data(int fd) {
  long magic;
  std::string opts;
  bool ext = ext_options(fd, &magic, &opts);
  if (magic == kXfsMagic) return true;  // a journal always; never stale data
  return ext && has_option(opts, "data=ordered", false);
}

bool journal_orders_data_cached(int fd) {
  static dev_t dev = 0;
  static bool known = false, ordered = false;
  struct stat st;
  if (::fstat(fd, &st) < 0) return false;
  if (!known || st.st_dev != dev) {
    ordered = journal_orders_data(fd);
    dev = st.st_dev;
    known = true;
  }
  return ordered;
}

bool journal_less(int fd) {
  long magic;
  std::string opts;
  return ext_options(fd, &magic, &opts) && !has_option(opts, "data=", true);
}

bool read_file(char const* path, std::string* out, size_t max) {
  Fd fd(::open(path, O_RDONLY | O_CLOEXEC));
  if (!fd.ok()) return false;
  out->clear();
  char buf[8192];
  for (;;) {
    ssize_t r = ::read(fd.get(), buf, sizeof buf);
    if (r < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    if (!r) break;
    if (out->size() + size_t(r) > max) {
      errno = EFBIG;
      return false;
    }
    out->append(buf, size_t(r));
  }
  return true;
}

bool write_file_atomic(std::string const& path, std::string_view data, mode_t mode) {
  std::string tmp = path + ".tmp";
  Fd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode));
  if (!fd.ok()) return false;
  if (::fchmod(fd.get(), mode) < 0 || !write_all(fd.get(), data) || ::fsync(fd.get()) < 0 ||
      !fd.close()) {
    int e = errno;
    ::unlink(tmp.c_str());
    errno = e;
    return false;
  }
  if (::rename(tmp.c_str(), path.c_str()) < 0) {
    int e = errno;
    ::unlink(tmp.c_str());
    errno = e;
    return false;
  }
  return fsync_parent(path);
}

bool mkdir_p(std::string const& path, mode_t mode) {
  if (path.empty()) return true;
  struct stat st;
  if (::stat(path.c_str(), &st) == 0) {
    if (S_ISDIR(st.st_mode)) return true;
    errno = ENOTDIR;
    return false;
  }
  std::string parent = dir_of(path);
  if (parent != path && parent != "." && parent != "/" && !mkdir_p(parent, mode)) return false;
  if (::mkdir(path.c_str(), mode) < 0 && errno != EEXIST) return false;
  return true;
}

std::string dir_of(std::string const& path) {
  size_t slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

std::string path_join(std::string_view a, std::string_view b) {
  std::string r(a);
  if (r.empty()) return std::string(b);
  if (r.back() != '/') r += '/';
  while (!b.empty() && b.front() == '/') b.remove_prefix(1);
  r += b;
  return r;
}

std::string fmt_u64(uint64_t n) {
  char buf[24];
  size_t i = sizeof buf;
  do {
    buf[--i] = char('0' + n % 10);
    n /= 10;
  } while (n);
  return std::string(buf + i, sizeof buf - i);
}

bool scan_u64(std::string_view s, uint64_t* out) {
  if (s.empty() || s.size() > 20) return false;
  uint64_t n = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    uint64_t d = uint64_t(c - '0');
    if (n > (UINT64_MAX - d) / 10) return false;
    n = n * 10 + d;
  }
  *out = n;
  return true;
}

}  // namespace qf
