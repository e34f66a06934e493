// ISC license.
// qmail-log(5): the activity record qmail-send writes on fd 0, byte for byte
// the lines of qmail, which qmailanalog's matchup and other tools parse.
#ifndef QF_SEND_LOG_H
#define QF_SEND_LOG_H

#include <cstdint>
#include <string>
#include <string_view>

namespace qf::send {

/// qmail's logsafe: newline becomes '/', '%' and every byte outside 33..126 '_'.
std::string logsafe(std::string_view s);

/// Formatters for each record (no trailing newline). did is the delivery
/// number text (with ".QIDENT" appended by the caller when set).
std::string log_new_msg(uint64_t id);
std::string log_info_msg(uint64_t id, uint64_t bytes, std::string_view sender, uint64_t qp,
                         uint64_t uid);
std::string log_starting(std::string_view did, uint64_t id, bool local, std::string_view rcpt);
/// status: K success, D failure, Z deferral, anything else "report mangled".
std::string log_result(std::string_view did, char status, std::string_view text);
std::string log_status(unsigned lused, unsigned lmax, unsigned rused, unsigned rmax);
std::string log_end_msg(uint64_t id);
std::string log_bounce_msg(uint64_t id, uint64_t qp);

/// Writes whole lines to an fd (blocking: a stuck logger stops qmail-send, as in
/// qmail, rather than losing lines). Lines are gathered and written together
/// by flush(), which the event loop calls before it waits; a line is never split.
class Logger {
 public:
  explicit Logger(int fd = 0) : fd_(fd) {}
  ~Logger() { flush(); }
  /// Queues line plus a newline (written at once past 16 KiB queued).
  void line(std::string_view line);
  /// Writes what is queued.
  void flush();

 private:
  int fd_;
  std::string buf_;
};

}  // namespace qf::send

#endif
