// ISC license.
// A qmail-queue client (qmail's qmail_open/qmail_close). The message goes to
//   - $QMAILQUEUE, or the program named to open(), when set: exec'd with the
//     message on a pipe to its fd 0 and the envelope on a pipe to its fd 1;
//   - otherwise the queue's qmail-queued over <queuedir>/inject.sock (no
//     process per message), the queue being chosen from the first 64 KiB as
//     qmail-queue would choose it;
//   - otherwise, when no qmail-queued answers, the qmail-queue beside this
//     program, exec'd.
// Used by qmail-inject, sendmail, qmail-smtpd, qmail-local (forwards) and
// qmail-send (bounces). Callers should ignore SIGPIPE or keep its default: a
// write to a vanished peer is reported by close(), never fatal here.
#ifndef QF_QUEUE_CLIENT_H
#define QF_QUEUE_CLIENT_H

#include <sys/types.h>

#include <string>
#include <string_view>
#include <vector>

#include "sys/fd.h"

namespace qf::queue {

class QueueClient {
 public:
  QueueClient() = default;
  ~QueueClient();
  QueueClient(QueueClient const&) = delete;
  QueueClient& operator=(QueueClient const&) = delete;

  /// Starts a message. With program (or $QMAILQUEUE unless ignore_env) that
  /// program is exec'd now; otherwise the choice between qmail-queued and
  /// qmail-queue waits for the first 64 KiB. False with errno on pipe/fork failure.
  bool open(char const* program = nullptr, bool ignore_env = false);
  /// The queueing process for logs ("qp"): the exec'd program, or ourselves
  /// when qmail-queued takes the message (its Received line names our pid).
  pid_t pid() const { return mode_ == Mode::exec ? pid_ : ::getpid(); }

  /// Message bytes. A write error is remembered; close() reports it.
  void put(std::string_view s);
  /// Copies fd from its current offset to its end into the message. A read
  /// error means the message will not be committed.
  void put_fd(int fd);

  /// Ends the message, sends the envelope and returns qmail-queue's exit code
  /// for it (its table; 120 if the program could not run, 81 if it crashed or
  /// qmail-queued went away without answering, 54 if the message did not get
  /// through whole). After a write or put_fd error no envelope is sent, so
  /// nothing is committed.
  int close(std::string_view sender, std::vector<std::string> const& rcpts);

  /// With on, a connection to qmail-queued that answered a message is kept
  /// (one per process) and the next message of this process for the same
  /// queue goes over it, without a new connection and greeting: for
  /// qmail-smtpd -L's workers, which queue one message after another. A kept
  /// connection is used only by the process that made it, only within
  /// kKeepMs of its last answer (qmail-queued drops a silent one after 10
  /// seconds) and only when a poll shows it neither closed nor readable.
  static void keep_connections(bool on);

 private:
  enum class Mode { none, pending, exec, socket };
  bool start_exec(std::string const& prog);
  bool connect_queued();
  void resolve();
  void send(std::string_view s);
  int close_exec(std::string const& env);
  int close_socket(std::string const& env);

  Mode mode_ = Mode::none;
  pid_t pid_ = -1;
  Fd msg_, env_, sock_;
  std::string dir_;  // the queue of sock_
  std::string buf_;
  bool write_failed_ = false;   // the sink (pipe or socket) failed
  bool source_failed_ = false;  // put_fd could not read its source
};

}  // namespace qf::queue

#endif
