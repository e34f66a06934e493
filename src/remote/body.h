// ISC license.
// The SMTP body encoder (RFC 5321 §4.5.2). The queue stores messages with LF
// line ends; the wire wants CRLF and dot-stuffing. Rules, fixed here so that
// no byte sequence in a message can end the DATA phase early (smuggling):
//   - CRLF, bare LF and bare CR each end a line and become CRLF;
//   - a line starting with '.' gets one more '.';
//   - a final partial line (no line end) is completed with CRLF;
//   - then ".\r\n" ends the data. The only "\r\n.\r\n" on the wire is the last.
// Every other byte (NUL and 8-bit included) passes unchanged.
#ifndef QF_REMOTE_BODY_H
#define QF_REMOTE_BODY_H

#include <cstdint>
#include <string>
#include <string_view>

namespace qf::remote {

class BodyEncoder {
 public:
  /// Appends the wire form of the next chunk of the message to out.
  void feed(std::string_view in, std::string* out);
  /// Appends the end: CRLF for a partial last line, then ".\r\n".
  void finish(std::string* out);

 private:
  bool bol_ = true;  // at the beginning of a line
  bool cr_ = false;  // a CR was seen, its line end not yet written
};

/// What the envelope needs to know about a message before DATA.
struct BodyInfo {
  uint64_t size = 0;       ///< bytes with CRLF line ends (RFC 1870 SIZE), stuffing excluded
  bool eightbit = false;   ///< has a byte >= 128 (BODY=8BITMIME)
};

/// Accumulates BodyInfo over chunks of a message.
class BodyScanner {
 public:
  void feed(std::string_view in);
  BodyInfo finish();

 private:
  BodyInfo info_;
  bool cr_ = false, bol_ = true;
};

/// The inverse of the encoder for tests and tools: wire data (through the
/// final ".\r\n") back to LF text. False if wire is not a well-formed encoding.
bool decode_body(std::string_view wire, std::string* out);

/// The LF form the encoder promises to carry: every CRLF, bare CR and bare LF
/// becomes LF, and a non-empty text without a final line end gets one.
std::string normalise_body(std::string_view in);

}  // namespace qf::remote

#endif
