// ISC license.
#include "queue/wire.h"

namespace qf::queue::wire {

void put_chunk_header(std::string* out, uint32_t n) {
  out->push_back(char(n >> 24));
  out->push_back(char(n >> 16));
  out->push_back(char(n >> 8));
  out->push_back(char(n));
}

Framer::Kind Framer::next(char const* in, size_t n, size_t* len) {
  if (env_) {
    *len = n;
    return Kind::envelope;
  }
  if (left_) {
    *len = n < left_ ? n : left_;
    left_ -= uint32_t(*len);
    return Kind::data;
  }
  size_t i = 0;
  while (i < n && have_ < 4) hdr_[have_++] = (unsigned char)in[i++];
  if (have_ < 4) {
    *len = i;
    return Kind::need_more;
  }
  uint32_t size = uint32_t(hdr_[0]) << 24 | uint32_t(hdr_[1]) << 16 | uint32_t(hdr_[2]) << 8 | hdr_[3];
  have_ = 0;
  if (size > kMaxChunk) {
    *len = i;
    return Kind::bad;
  }
  if (size == 0) env_ = true;
  left_ = size;
  *len = i;
  return Kind::need_more;
}

}  // namespace qf::queue::wire
