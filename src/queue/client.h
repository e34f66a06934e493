// ISC license.
// A qmail-queue client (qmail's qmail_open/qmail_close): runs $QMAILQUEUE, or
// our qmail-queue, with the message on a pipe to its fd 0 and the envelope on a
// pipe to its fd 1. Used by qmail-inject, sendmail, qmail-local (forwards) and
// qmail-send (bounces).
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

  /// Starts the queue program: program, else $QMAILQUEUE (unless ignore_env),
  /// else the qmail-queue beside this program. False with errno on pipe/fork
  /// failure. The child has exactly fds 0, 1 and 2.
  bool open(char const* program = nullptr, bool ignore_env = false);
  pid_t pid() const { return pid_; }

  /// Message bytes. A write error is remembered; close() reports it.
  void put(std::string_view s);
  /// Copies fd from its current offset to its end into the message. A read
  /// error counts as a write error: the message will not be committed.
  void put_fd(int fd);

  /// Ends the message, sends the envelope, waits for the program and returns
  /// its exit code (qmail-queue's table; 120 if it could not run, 81 if it
  /// crashed, 54 if we could not write to it while it exited 0). After a write
  /// or put_fd error no envelope is sent, so nothing is committed.
  int close(std::string_view sender, std::vector<std::string> const& rcpts);

 private:
  void flush();
  pid_t pid_ = -1;
  Fd msg_, env_;
  std::string buf_;
  bool write_failed_ = false;
};

}  // namespace qf::queue

#endif
