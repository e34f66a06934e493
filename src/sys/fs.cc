// ISC license.
#include "sys/fs.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
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
  if (!d.ok()) return false;
  if (::fsync(d.get()) < 0 && errno != EINVAL) return false;
  return true;
}

bool fsync_parent(std::string const& path) { return fsync_dir(dir_of(path)); }

bool journal_orders_data(int fd) {
  constexpr long kXfs = 0x58465342, kExt = 0xEF53;  // XFS_SUPER_MAGIC, EXT4_SUPER_MAGIC
  struct statfs sf;
  struct stat st;
  if (::fstatfs(fd, &sf) < 0 || ::fstat(fd, &st) < 0) return false;
  if (long(sf.f_type) == kXfs) return true;  // a journal always; never stale data
  if (long(sf.f_type) != kExt) return false;
  // ext2/3/4 share the magic: the mount's options say whether there is a
  // journal and in which mode (/proc/fs/ext4/DEV/options lists data=MODE
  // only when there is one).
  std::string dev = "/sys/dev/block/" + fmt_u64(major(st.st_dev)) + ":" + fmt_u64(minor(st.st_dev));
  char target[PATH_MAX];
  ssize_t n = ::readlink(dev.c_str(), target, sizeof target - 1);
  if (n <= 0) return false;
  std::string_view name(target, size_t(n));
  if (auto slash = name.rfind('/'); slash != std::string_view::npos) name.remove_prefix(slash + 1);
  std::string opts;
  if (name.empty() || !read_file(("/proc/fs/ext4/" + std::string(name) + "/options").c_str(), &opts, 1 << 16))
    return false;
  size_t pos = 0;
  while (pos < opts.size()) {
    size_t end = opts.find('\n', pos);
    if (end == std::string::npos) end = opts.size();
    std::string_view opt(opts.data() + pos, end - pos);
    if (opt == "data=ordered") return true;
    pos = end + 1;
  }
  return false;
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
