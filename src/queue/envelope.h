// ISC license.
// The envelope codec: qmail-queue's fd 1 stream and the text0 records of the
// queue files (intd/todo: u p F T...; info: F...; local/remote: T or D).
// Every record is one type byte, the value, and a NUL.
#ifndef QF_QUEUE_ENVELOPE_H
#define QF_QUEUE_ENVELOPE_H

#include <cstdint>
#include <string>
#include <string_view>

namespace qf::queue {

/// Longest address qmail-queue accepts (qmail's ADDR); longer gives exit 11, never truncation.
inline constexpr size_t kMaxAddress = 1003;

/// Streaming validator of the envelope: F sender NUL, then T recipient NUL any
/// number of times, then one more NUL. An empty recipient is a format error.
class EnvelopeParser {
 public:
  enum class Status { more, done, too_long, bad_format };

  /// Consumes up to n bytes of data and appends every complete record to *out
  /// byte for byte ("Fsender\0", "Trcpt\0"). *used is set to the bytes consumed
  /// (less than n only when the status is done or an error).
  Status feed(char const* data, size_t n, size_t* used, std::string* out);

  uint64_t recipients() const { return rcpts_; }

 private:
  bool in_addr_ = false;
  bool have_sender_ = false;
  char type_ = 0;
  size_t len_ = 0;
  uint64_t rcpts_ = 0;
};

/// Appends one record: type, value, NUL.
void put_record(std::string* out, char type, std::string_view value);

/// Calls fn(type, value) for every NUL-terminated record of data, in order,
/// until fn returns false. Returns false if data does not end with a NUL
/// (a truncated file); records before the break have been visited.
template <typename F>
bool for_each_record(std::string_view data, F&& fn) {
  size_t pos = 0;
  while (pos < data.size()) {
    size_t nul = data.find('\0', pos);
    if (nul == std::string_view::npos) return false;
    std::string_view rec = data.substr(pos, nul - pos);
    pos = nul + 1;
    if (rec.empty()) {
      if (!fn('\0', rec)) return true;
      continue;
    }
    if (!fn(rec[0], rec.substr(1))) return true;
  }
  return true;
}

}  // namespace qf::queue

#endif
