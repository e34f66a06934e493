// ISC license.
// The SMTP client (RFC 5321) on one TCP connection: connect with a timeout,
// greeting, EHLO (HELO fallback), and transactions of one message to many
// recipients with PIPELINING, SIZE and 8BITMIME when the peer offers them.
// Every wait is bounded: timeoutconnect for connect(2), timeoutremote for
// each write and for each whole reply (so a peer that drips bytes cannot hold
// a slot longer than one reply deadline). Results use qmail-remote's words.
#ifndef QF_REMOTE_SMTP_H
#define QF_REMOTE_SMTP_H

#include <cstdint>
#include <string>
#include <vector>

#include "remote/body.h"
#include "remote/reply.h"
#include "sys/fd.h"

namespace qf::remote {

/// The outcome of one recipient inside a transaction.
struct RcptOutcome {
  char kind = 0;     ///< 'r' accepted, 'h' refused for good, 's' refused for now, 0: no answer
  std::string text;  ///< for h and s: why
};

/// The outcome of one transaction (or of the attempt to get to one).
struct Outcome {
  char status = 'Z';  ///< K (accepted for the 'r' recipients), Z, D: for all without their own
  std::string text;
  std::vector<RcptOutcome> rcpts;
  /// Nothing reached the peer that could have delivered anything: the
  /// connection was found dead before a recipient was answered (a cached
  /// connection the peer had closed). Safe to retry on a fresh connection.
  bool retry_fresh = false;
  /// The failure is the destination's, not a recipient's or the message's:
  /// no connection, no usable greeting or HELO, a 421, a timeout or a
  /// connection that died (Postfix's site failure). Feeds qmail-send's
  /// concurrency window; set only with status Z.
  bool site_failure = false;
};

/// A message to send: an open regular file and what a scan of it found.
struct MessageSource {
  int fd = -1;
  BodyInfo info;
  /// Scans fd from offset 0 (size, 8-bit). False with errno on a read error.
  bool scan();
};

struct Timeouts {
  unsigned connect = 60;   ///< timeoutconnect
  unsigned remote = 1200;  ///< timeoutremote
};

/// Connects to ip:port within seconds. Returns the socket, or -1 with errno
/// (ETIMEDOUT when the time ran out).
int connect_tcp(std::string const& ip, uint16_t port, unsigned seconds);

class Session {
 public:
  /// Takes a connected socket. host is how results name the peer (its address).
  Session(Fd fd, std::string host, Timeouts t) : fd_(std::move(fd)), host_(std::move(host)), t_(t) {}
  ~Session();

  /// Reads the greeting and says EHLO helo (HELO if EHLO is refused). On
  /// failure fills o (status Z or D, text) and returns false.
  bool start(std::string const& helo, Outcome* o);
  /// One transaction: MAIL, RCPTs, DATA, the message. RSET first when this
  /// session has carried one before. o->rcpts gets one entry per rcpt.
  void transact(std::string const& sender, std::vector<std::string> const& rcpts,
                MessageSource const& msg, Outcome* o);
  /// Sends QUIT (not waiting for the answer) and closes.
  void quit();

  bool usable() const { return fd_.ok() && !broken_; }
  unsigned transactions() const { return done_; }
  std::string const& host() const { return host_; }
  Extensions const& extensions() const { return ext_; }

 private:
  enum class Io { ok, timeout, closed, error, bad };
  Io send(std::string const& data);
  Io read_reply(Reply* r);
  Io send_body(MessageSource const& msg, Reply* early, bool* got_early);
  void io_failure(Io e, char const* during, Outcome* o);
  void drop_keeping(Outcome* o);  // closes after a failure whose text o already holds
  std::string said(Reply const& r) const;
  bool greet(std::string const& helo, Outcome* o);
  void exchange(std::string const& sender, std::vector<std::string> const& rcpts,
                MessageSource const& msg, Outcome* o);

  Fd fd_;
  std::string host_;
  Timeouts t_;
  Extensions ext_;
  ReplyParser parser_;
  std::string in_;
  size_t in_pos_ = 0;
  bool broken_ = false;
  bool saw_421_ = false;  // a 421 since the last start() or transact()
  unsigned done_ = 0;  // transactions begun on this connection
};

}  // namespace qf::remote

#endif
