// ISC license.
// Reads a message from a descriptor: bounded lines for the header, then raw
// chunks for the body, so that no input size makes memory grow.
#ifndef QF_INJECT_LINEREADER_H
#define QF_INJECT_LINEREADER_H

#include <sys/types.h>

#include <string>
#include <string_view>

namespace qf::inject {

class LineReader {
 public:
  explicit LineReader(int fd) : fd_(fd) {}
  LineReader(LineReader const&) = delete;
  LineReader& operator=(LineReader const&) = delete;

  enum class Status {
    line,      ///< *out holds one line with its '\n'
    eof,       ///< no bytes left
    too_long,  ///< *out holds the first bytes of a line longer than max; the rest follows
    error,     ///< read(2) failed; errno says why
  };

  /// Replaces *out with the next line. A last line without '\n' gets one
  /// (qmail: every line of a message ends in a newline).
  Status line(std::string* out, size_t max);

  /// The next bytes of input as they come: what line() has buffered first,
  /// then straight from read(2). The view lives until the next call. Returns
  /// the byte count, 0 at end of input, -1 on a read error (errno set).
  ssize_t chunk(std::string_view* out);

 private:
  bool fill();  // false on EOF (eof_ set) or error (errno set)
  int fd_;
  bool eof_ = false;
  size_t pos_ = 0, len_ = 0;
  char buf_[1 << 16];
};

}  // namespace qf::inject

#endif
