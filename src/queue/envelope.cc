// ISC license.
#include "queue/envelope.h"

#include <cstring>

namespace qf::queue {

EnvelopeParser::Status EnvelopeParser::feed(char const* data, size_t n, size_t* used,
                                            std::string* out) {
  size_t i = 0;
  while (i < n) {
    if (!in_addr_) {
      char t = data[i++];
      if (!have_sender_) {
        if (t != 'F') {
          *used = i;
          return Status::bad_format;
        }
      } else if (t == 0) {
        *used = i;
        return Status::done;
      } else if (t != 'T') {
        *used = i;
        return Status::bad_format;
      }
      type_ = t;
      len_ = 0;
      in_addr_ = true;
      out->push_back(t);
      continue;
    }
    // Copy address bytes up to the NUL that ends the record.
    void const* nul = std::memchr(data + i, 0, n - i);
    size_t take = nul ? size_t(static_cast<char const*>(nul) - (data + i)) : n - i;
    if (take > kMaxAddress - len_) {
      *used = i;
      return Status::too_long;
    }
    out->append(data + i, take);
    len_ += take;
    i += take;
    if (!nul) break;
    i++;  // the NUL
    if (type_ == 'T' && len_ == 0) {
      *used = i;
      return Status::bad_format;
    }
    out->push_back('\0');
    if (type_ == 'F')
      have_sender_ = true;
    else
      rcpts_++;
    in_addr_ = false;
  }
  *used = i;
  return Status::more;
}

void put_record(std::string* out, char type, std::string_view value) {
  out->push_back(type);
  out->append(value);
  out->push_back('\0');
}

}  // namespace qf::queue
