// ISC license.
// qmail-queued: a long-lived qmail-queue for one queue. Clients (QueueClient:
// qmail-inject, sendmail, qmail-smtpd, qmail-local's forwards, qmail-send's
// bounces) hand it messages over <queuedir>/inject.sock instead of exec'ing
// qmail-queue for each one; it commits them exactly as qmail-queue does
// (same files, same fsyncs, same Received line, same exit codes) and commits
// the messages that are complete at the same moment as one batch. Started by
// qmail-start as qmailq; leaves when its fd 0 (a pipe from qmail-send) closes.
// See qmail-queued(8).
#ifndef QF_QUEUE_QUEUED_H
#define QF_QUEUE_QUEUED_H

#include <string>

#include "queue/layout.h"

namespace qf::queue {

/// The socket of a queue: <queuedir>/inject.sock.
std::string inject_socket(std::string const& queuedir);

/// Runs qmail-queued for q with workers processes sharing the socket.
/// Returns the exit code once fd 0 reaches end of file and the workers have
/// finished the messages in hand.
int run_queued(Layout const& q, unsigned workers);

}  // namespace qf::queue

#endif
