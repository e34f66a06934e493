// ISC license.
// The two byte-stream codecs of an SMTP server, pure (no I/O): command lines
// and the DATA stream. Both accept only CR LF as a line end: a LF without a CR
// before it, or a CR without a LF after it, is reported and never guessed at
// (the SMTP smuggling defence, CVE-2023-51764). Memory is bounded: a command
// line keeps at most its limit, the DATA decoder keeps nothing.
#ifndef QF_SMTPD_LINES_H
#define QF_SMTPD_LINES_H

#include <cstddef>
#include <string>
#include <string_view>

namespace qf::smtpd {

/// What a codec found in the input it consumed.
enum class Event {
  need_more,  ///< all input consumed, nothing complete yet
  line,       ///< CommandReader: one command line complete (line())
  too_long,   ///< CommandReader: a line ended that was longer than the limit
  end,        ///< DataDecoder: CR LF . CR LF seen
  bare_lf,    ///< a LF not preceded by CR: the session must end
  bare_cr,    ///< a CR not followed by LF: the session must end
};

/// Splits the command stream into lines. A line longer than max_line bytes
/// (CR LF not counted) is consumed to its end without being kept and then
/// reported as too_long.
class CommandReader {
 public:
  explicit CommandReader(size_t max_line) : max_(max_line) {}
  /// Consumes bytes from the front of *in up to and including the first event.
  Event next(std::string_view* in);
  /// The last complete line, without CR LF (valid after Event::line).
  std::string const& line() const { return line_; }

 private:
  size_t max_;
  std::string line_;
  bool cr_ = false;        // the previous byte was CR
  bool overflow_ = false;  // bytes were dropped from the current line
  bool done_ = false;      // line_ holds a finished line; clear before the next byte
};

/// Undoes SMTP's DATA transparency: CR LF becomes LF, a leading dot is removed
/// (RFC 5321 4.5.2), and the data ends at CR LF . CR LF only. The decoder
/// starts at the beginning of a line (just after the DATA command's line).
class DataDecoder {
 public:
  /// Consumes bytes from *in up to the first event, appending message bytes
  /// to *out. After end or an error, reset() before the next message.
  Event next(std::string_view* in, std::string* out);
  void reset() { state_ = State::bol; }

 private:
  enum class State { bol, mid, cr, dot, dot_cr };
  State state_ = State::bol;
};

/// Counts the Received and Delivered-To header fields of a message fed as
/// decoded bytes (LF line ends), for qmail's loop detection.
class HopCounter {
 public:
  void feed(std::string_view s);
  unsigned hops() const { return hops_; }
  void reset() { *this = HopCounter(); }

 private:
  bool in_header_ = true;
  size_t pos_ = 0;    // bytes since the last LF
  char head_[13]{};   // the first bytes of the current line
  unsigned hops_ = 0;
};

}  // namespace qf::smtpd

#endif
