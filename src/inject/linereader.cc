// ISC license.
#include "inject/linereader.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

namespace qf::inject {

bool LineReader::fill() {
  if (eof_) return false;
  for (;;) {
    ssize_t r = ::read(fd_, buf_, sizeof buf_);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return false;
    if (r == 0) {
      eof_ = true;
      return false;
    }
    pos_ = 0;
    len_ = size_t(r);
    return true;
  }
}

LineReader::Status LineReader::line(std::string* out, size_t max) {
  out->clear();
  for (;;) {
    if (pos_ == len_) {
      if (!fill()) {
        if (!eof_) return Status::error;
        if (out->empty()) return Status::eof;
        out->push_back('\n');
        return Status::line;
      }
    }
    char const* start = buf_ + pos_;
    size_t avail = len_ - pos_;
    void const* nl = ::memchr(start, '\n', avail);
    size_t take = nl ? size_t(static_cast<char const*>(nl) - start) + 1 : avail;
    if (out->size() + take > max) {
      take = max - out->size();
      out->append(start, take);
      pos_ += take;
      return Status::too_long;
    }
    out->append(start, take);
    pos_ += take;
    if (nl) return Status::line;
  }
}

ssize_t LineReader::chunk(std::string_view* out) {
  if (pos_ == len_ && !fill()) return eof_ ? 0 : -1;
  *out = std::string_view(buf_ + pos_, len_ - pos_);
  pos_ = len_;
  return ssize_t(out->size());
}

}  // namespace qf::inject
