// ISC license.
// qmail-smtpd's protocol engine: one SMTP session as a state machine, pure.
// Bytes from the client go in through feed(); replies collect in replies()
// for the I/O shell (server.h) to write; messages go to a Sink, which in
// qmail-smtpd runs qmail-queue and in the tests records what it is given.
// Nothing here reads a file, the clock (injected) or a socket.
#ifndef QF_SMTPD_SESSION_H
#define QF_SMTPD_SESSION_H

#include <cstdint>
#include <ctime>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "smtpd/lines.h"
#include "smtpd/policy.h"

namespace qf::smtpd {

/// Everything a session needs to know, read once by the shell from the
/// control files and tcpserver's environment (qmail-smtpd(8)).
struct Config {
  std::string greeting;     ///< smtpgreeting, else me
  std::string localiphost;  ///< replaces [local ip] in recipients; empty: off
  Peer peer;
  bool relay_client = false;  ///< RELAYCLIENT is set
  std::string relay_suffix;   ///< its value, appended to every recipient
  uint64_t databytes = 0;     ///< 0: no limit
  HostList rcpthosts;
  HostList badmailfrom;
  size_t max_line = 2048;     ///< command line bytes, CR LF not counted
  size_t max_rcpts = 1000;    ///< recipients per message
  unsigned max_hops = 100;    ///< Received + Delivered-To fields before "looping"
  /// timeoutsmtpd: seconds a client may take for one request (a command line;
  /// DATA see min_data_rate) with per_request_deadline, else for each read.
  unsigned timeout = 1200;
  bool per_request_deadline = true;  ///< smtpd_per_request_deadline
  /// smtpd_min_data_rate: in DATA, each byte received adds 1/rate seconds to
  /// the deadline, up to timeout from now; 0: DATA gets timeout in all.
  uint64_t min_data_rate = 500;
  unsigned session_limit = 3600;  ///< smtpd_session_time_limit, seconds; 0: none
};

/// Where accepted messages go.
class Sink {
 public:
  virtual ~Sink() = default;
  /// Starts a message. False when the queue cannot be started.
  virtual bool open() = 0;
  /// qmail's "qp": the queue process id, for the 250 reply.
  virtual uint64_t qp() const = 0;
  /// Message bytes (LF line ends).
  virtual void put(std::string_view bytes) = 0;
  /// Ends the message; qmail-queue's exit code (0: queued, see qmail-queue(8)).
  virtual int commit(std::string_view sender, std::vector<std::string> const& rcpts) = 0;
  /// Drops the message started by open(): nothing is queued.
  virtual void abort() = 0;
};

class Session {
 public:
  using Clock = std::function<time_t()>;
  Session(Config cfg, Sink* sink, Clock clock);
  ~Session();
  Session(Session const&) = delete;
  Session& operator=(Session const&) = delete;

  /// Queues the 220 greeting.
  void start();
  /// Consumes client bytes; stops consuming once finished().
  void feed(std::string_view in);
  /// The client closed the connection (a message in progress is dropped).
  void eof();
  /// The client was silent for timeoutsmtpd: "451 timeout" and finish.
  void timeout();
  /// When the shell must stop waiting for the client: the end of the current
  /// request (per_request_deadline) or of the session, whichever is first;
  /// 0 when neither applies. Input fed before it moves the request's end.
  time_t deadline() const;
  /// The shell reached deadline(): "451 timeout" for a request, "421 ...
  /// session time limit exceeded" for the session; finishes.
  void expire();

  /// Replies not yet written; the shell takes them (and clears the string).
  std::string& replies() { return out_; }
  /// No more input is wanted: write the replies and exit with exit_code().
  bool finished() const { return finished_; }
  /// 0 after QUIT; 100 after a protocol violation; 111 otherwise (qmail-smtpd(8)).
  int exit_code() const { return exit_code_; }
  /// The session ended while the client may still be sending: read and drop
  /// its input for a moment before closing, so that it sees the last reply.
  bool linger() const { return linger_; }

 private:
  void dispatch(std::string const& line, bool more_input);
  void cmd_helo(std::string_view arg, bool extended);
  void cmd_mail(std::string_view arg);
  void cmd_rcpt(std::string_view arg);
  void cmd_data(bool more_input);
  void data(std::string_view* in);
  void end_of_data();
  void reset_transaction();
  void reply(std::string_view line);
  void finish(int code, bool linger);
  void violation(std::string_view what);
  void next_request();

  time_t started_ = 0;          // the session's start, for session_limit
  time_t request_end_ = 0;      // the current request's deadline
  int64_t data_credit_ms_ = 0;  // DATA: deadline in ms, moved by bytes received

  Config cfg_;
  Sink* sink_;
  Clock clock_;
  CommandReader reader_;
  DataDecoder decoder_;
  HopCounter hops_;
  std::string out_;
  std::string helo_;
  bool in_mail_ = false;     // MAIL accepted, transaction open
  bool sender_barred_ = false;
  std::string sender_;
  std::vector<std::string> rcpts_;
  bool in_data_ = false;
  bool sink_open_ = false;
  bool overflow_ = false;    // databytes exceeded: the message is dropped
  uint64_t bytes_ = 0;       // message bytes so far (as stored, LF ends)
  std::string chunk_;        // decoded bytes on their way to the sink
  bool finished_ = false;
  bool linger_ = false;
  int exit_code_ = 111;
};

}  // namespace qf::smtpd

#endif
