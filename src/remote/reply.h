// ISC license.
// SMTP replies (RFC 5321 §4.2): an incremental, bounded parser. A hostile
// peer cannot grow memory: each reply keeps at most kMaxText bytes of text,
// and a reply longer than kMaxBytes or kMaxLines in total is an error, so an
// endless line or a 10,000-line reply ends the session instead of the heap.
#ifndef QF_REMOTE_REPLY_H
#define QF_REMOTE_REPLY_H

#include <cstddef>
#include <string>

namespace qf::remote {

struct Reply {
  int code = 0;      ///< 200..599 (the first line's code)
  std::string text;  ///< the lines without CR, each ending in '\n', at most kMaxText bytes
};

class ReplyParser {
 public:
  static constexpr size_t kMaxText = 4096;    ///< text kept per reply
  static constexpr size_t kMaxBytes = 65536;  ///< bytes of one reply, all lines
  static constexpr size_t kMaxLines = 512;    ///< lines of one reply

  enum class Status { more, reply, bad };
  /// Consumes bytes up to the end of one reply (*used says how many). reply:
  /// take() it; bad: the peer broke the grammar or a bound (why: error()); the
  /// parser must not be fed again.
  Status feed(char const* data, size_t n, size_t* used);
  Reply take();
  char const* error() const { return error_; }

 private:
  Status line_done();
  Reply cur_;
  std::string line_;  // current line, first kMaxLine bytes
  size_t line_len_ = 0;
  size_t bytes_ = 0, lines_ = 0;
  char const* error_ = "";
};

/// ESMTP extensions advertised in an EHLO reply.
struct Extensions {
  bool esmtp = false;  ///< EHLO was accepted
  bool pipelining = false;
  bool eightbitmime = false;
  bool size = false;
  unsigned long long size_limit = 0;  ///< 0: none announced
};

/// Reads the keywords of a 250 EHLO reply (lines after the first).
Extensions parse_ehlo(Reply const& r);

}  // namespace qf::remote

#endif
