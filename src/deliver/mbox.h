// ISC license.
// Delivery to an mbox file: append the From_ line, Return-Path, Delivered-To,
// the message with ">From " quoting (mboxrd), a final newline and a blank
// line, under an fcntl and an flock lock, then fsync. The file must be a
// regular file reached without a symbolic link and with one link only
// (CVE-2008-2936). Every failure is temporary and truncates the file back to
// its size before the delivery.
#ifndef QF_DELIVER_MBOX_H
#define QF_DELIVER_MBOX_H

#include <cstdint>
#include <string>
#include <string_view>

#include "deliver/outcome.h"

namespace qf::deliver {

/// Seconds to wait for the locks before giving up (temporary failure).
inline constexpr unsigned kMboxLockSeconds = 30;

/// Appends to path (relative to dirfd, or absolute), creating it mode 0600 if
/// missing. prefix: the From_, Return-Path and Delivered-To lines.
Outcome deliver_mbox(int dirfd, std::string const& path, std::string_view prefix, int messfd);

/// The message body as it goes into an mbox, as a stream: every line that
/// needs_from_quote (lines.h) gets a '>' in front; at the end a missing final
/// newline is added, then one blank line. Holds no more than a counter of a
/// line however long it is.
class MboxQuoter {
 public:
  /// Appends the transformed data to *out.
  void feed(std::string_view data, std::string* out);
  /// Appends the end of the body.
  void end(std::string* out);

 private:
  void flush_pending(std::string* out);
  enum class St { line_start, quotes, from, mid } st_ = St::line_start;
  uint64_t quotes_ = 0;  // '>' seen at the start of this line
  size_t matched_ = 0;   // bytes of "From " seen after them
};

/// The whole body of message as it goes into an mbox (MboxQuoter on it).
std::string mbox_body(std::string_view message);

}  // namespace qf::deliver

#endif
