// ISC license.
#include "deliver/message.h"

#include <errno.h>
#include <unistd.h>

#include <cstring>

#include "sys/fs.h"

namespace qf::deliver {

bool MessageReader::fill() {
  for (;;) {
    ssize_t r = ::pread(fd_, buf_, sizeof buf_, off_);
    if (r < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    off_ += r;
    pos_ = 0;
    len_ = size_t(r);
    if (!r) eof_ = true;
    return true;
  }
}

int MessageReader::getline(std::string* line, size_t max, bool* cut) {
  line->clear();
  *cut = false;
  auto keep = [&](char const* p, size_t n) {
    size_t room = line->size() < max ? max - line->size() : 0;
    if (n > room) *cut = true;
    line->append(p, n < room ? n : room);
  };
  for (;;) {
    if (pos_ == len_) {
      if (eof_) return 0;
      if (!fill()) return -1;
      if (eof_) return 0;
    }
    char const* start = buf_ + pos_;
    void const* nl = std::memchr(start, '\n', len_ - pos_);
    if (nl) {
      size_t n = size_t(static_cast<char const*>(nl) - start) + 1;
      keep(start, n);
      pos_ += n;
      return 1;
    }
    keep(start, len_ - pos_);
    pos_ = len_;
  }
}

ssize_t MessageReader::read(char* buf, size_t len) {
  if (pos_ == len_) {
    if (eof_) return 0;
    if (!fill()) return -1;
    if (eof_) return 0;
  }
  size_t n = len_ - pos_ < len ? len_ - pos_ : len;
  std::memcpy(buf, buf_ + pos_, n);
  pos_ += n;
  return ssize_t(n);
}

bool copy_message(int messfd, int outfd, bool* read_failed) {
  *read_failed = false;
  static char buf[1 << 16];
  off_t off = 0;
  for (;;) {
    ssize_t r = ::pread(messfd, buf, sizeof buf, off);
    if (r < 0) {
      if (errno == EINTR) continue;
      *read_failed = true;
      return false;
    }
    if (!r) return true;
    off += r;
    if (!write_all(outfd, buf, size_t(r))) return false;
  }
}

bool seekable(int fd) { return ::lseek(fd, 0, SEEK_CUR) >= 0; }

}  // namespace qf::deliver
