// ISC license.
#include "remote/tcpto.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "sys/fd.h"
#include "sys/fs.h"

namespace qf::remote::tcpto {

namespace {

bool to_bin(std::string const& ip, unsigned char out[16]) {
  unsigned char v4[4];
  if (inet_pton(AF_INET, ip.c_str(), v4) == 1) {
    memset(out, 0, 10);
    out[10] = out[11] = 0xff;
    memcpy(out + 12, v4, 4);
    return true;
  }
  return inet_pton(AF_INET6, ip.c_str(), out) == 1;
}

std::string to_text(unsigned char const in[16]) {
  char buf[INET6_ADDRSTRLEN];
  static unsigned char const mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (!memcmp(in, mapped, 12)) return inet_ntop(AF_INET, in + 12, buf, sizeof buf);
  return inet_ntop(AF_INET6, in, buf, sizeof buf);
}

int64_t get_when(unsigned char const* r) {
  uint64_t w = 0;
  for (int i = 7; i >= 0; i--) w = w << 8 | r[24 + i];
  return int64_t(w);
}

void put_when(unsigned char* r, int64_t when) {
  uint64_t w = uint64_t(when);
  for (int i = 0; i < 8; i++) r[24 + i] = (unsigned char)(w >> (8 * i));
}

size_t records(std::string_view image) { return std::min(image.size(), kMaxFile) / kRecord; }

unsigned char const* rec(std::string_view image, size_t i) {
  return reinterpret_cast<unsigned char const*>(image.data()) + i * kRecord;
}

}  // namespace

std::vector<Record> parse(std::string_view image) {
  std::vector<Record> out;
  for (size_t i = 0; i < records(image); i++) {
    unsigned char const* r = rec(image, i);
    if (!r[16]) continue;
    out.push_back({to_text(r), r[16], get_when(r)});
  }
  return out;
}

bool dead(std::string_view image, std::string const& ip, int64_t now, unsigned jitter) {
  unsigned char a[16];
  if (!to_bin(ip, a)) return false;
  for (size_t i = 0; i < records(image); i++) {
    unsigned char const* r = rec(image, i);
    if (r[16] && !memcmp(r, a, 16))
      return r[16] >= 2 && now - get_when(r) < int64_t(60 + (jitter & 31)) << 6;
  }
  return false;
}

long update(std::string* image, std::string const& ip, bool timed_out, int64_t now) {
  unsigned char a[16];
  if (!to_bin(ip, a)) return -1;
  size_t n = records(*image);
  auto at = [&](size_t i) { return reinterpret_cast<unsigned char*>(image->data()) + i * kRecord; };
  for (size_t i = 0; i < n; i++) {
    unsigned char* r = at(i);
    if (!r[16] || memcmp(r, a, 16)) continue;
    if (!timed_out) {
      r[16] = 0;
      return long(i);
    }
    if (now < get_when(r) + 120) return -1;
    if (r[16] < kMaxCount) r[16]++;
    put_when(r, now);
    return long(i);
  }
  if (!timed_out || !n) return -1;
  long pick = -1;
  int64_t oldest = 0;
  for (size_t i = 0; i < n; i++) {
    unsigned char* r = at(i);
    if (!r[16]) {
      pick = long(i);
      break;
    }
    int64_t w = get_when(r) + (int64_t(r[16]) << 10);
    if (pick < 0 || w < oldest) {
      pick = long(i);
      oldest = w;
    }
  }
  unsigned char* r = at(size_t(pick));
  memset(r, 0, kRecord);
  memcpy(r, a, 16);
  r[16] = 1;
  put_when(r, now);
  return pick;
}

namespace {

bool read_locked(int fd, int how, std::string* image) {
  if (::flock(fd, how) < 0) return false;
  image->assign(kMaxFile, '\0');
  ssize_t r = ::pread(fd, image->data(), kMaxFile, 0);
  if (r < 0) return false;
  image->resize(size_t(r));
  return true;
}

}  // namespace

bool File::dead(std::string const& ip, int64_t now) const {
  Fd fd(::open(path_.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK));
  std::string image;
  if (!fd.ok() || !read_locked(fd.get(), LOCK_SH, &image)) return false;
  return tcpto::dead(image, ip, now, unsigned(::getpid()) & 31);
}

void File::note(std::string const& ip, bool timed_out, int64_t now) const {
  Fd fd(::open(path_.c_str(), O_RDWR | O_CLOEXEC | O_NONBLOCK));
  std::string image;
  if (!fd.ok() || !read_locked(fd.get(), LOCK_EX, &image)) return;
  long i = update(&image, ip, timed_out, now);
  if (i < 0) return;
  ssize_t w = ::pwrite(fd.get(), image.data() + size_t(i) * kRecord, kRecord, off_t(i) * kRecord);
  (void)w;  // dead-host memory is a hint: losing one update costs a retry, no mail
}

bool File::list(std::vector<Record>* out) const {
  Fd fd(::open(path_.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK));
  std::string image;
  if (!fd.ok() || !read_locked(fd.get(), LOCK_SH, &image)) return false;
  *out = parse(image);
  return true;
}

bool File::clear() const {
  Fd fd(::open(path_.c_str(), O_RDWR | O_CLOEXEC | O_NONBLOCK));
  std::string image;
  if (!fd.ok() || !read_locked(fd.get(), LOCK_EX, &image)) return false;
  std::string zeros(image.size(), '\0');
  return ::pwrite(fd.get(), zeros.data(), zeros.size(), 0) == ssize_t(zeros.size());
}

}  // namespace qf::remote::tcpto
