// ISC license.
#include "send/log.h"

#include "sys/fs.h"

namespace qf::send {

std::string logsafe(std::string_view s) {
  std::string r(s);
  for (char& c : r) {
    if (c == '\n')
      c = '/';
    else if (c == '%' || (unsigned char)c < 33 || (unsigned char)c > 126)
      c = '_';
  }
  return r;
}

std::string log_new_msg(uint64_t id) { return "new msg " + fmt_u64(id); }

std::string log_info_msg(uint64_t id, uint64_t bytes, std::string_view sender, uint64_t qp,
                         uint64_t uid) {
  return "info msg " + fmt_u64(id) + ": bytes " + fmt_u64(bytes) + " from <" + logsafe(sender) +
         "> qp " + fmt_u64(qp) + " uid " + fmt_u64(uid);
}

std::string log_starting(std::string_view did, uint64_t id, bool local, std::string_view rcpt) {
  return "starting delivery " + std::string(did) + ": msg " + fmt_u64(id) +
         (local ? " to local " : " to remote ") + logsafe(rcpt);
}

std::string log_result(std::string_view did, char status, std::string_view text) {
  std::string head = "delivery " + std::string(did) + ": ";
  switch (status) {
    case 'K': return head + "success: " + logsafe(text);
    case 'D': return head + "failure: " + logsafe(text);
    case 'Z': return head + "deferral: " + logsafe(text);
    default: return head + "report mangled, will defer";
  }
}

std::string log_status(unsigned lused, unsigned lmax, unsigned rused, unsigned rmax) {
  return "status: local " + fmt_u64(lused) + "/" + fmt_u64(lmax) + " remote " + fmt_u64(rused) +
         "/" + fmt_u64(rmax);
}

std::string log_end_msg(uint64_t id) { return "end msg " + fmt_u64(id); }

std::string log_bounce_msg(uint64_t id, uint64_t qp) {
  return "bounce msg " + fmt_u64(id) + " qp " + fmt_u64(qp);
}

void Logger::line(std::string_view l) {
  buf_.append(l);
  buf_.push_back('\n');
  if (buf_.size() > (1 << 14)) flush();
}

void Logger::flush() {
  if (buf_.empty()) return;
  write_all(fd_, buf_);
  buf_.clear();
}

}  // namespace qf::send
