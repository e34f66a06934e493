// ISC license.
// qmail-queue: read a message on one fd and an envelope on another, commit both
// to one queue, print nothing, return djb's exit code (sys/exitcodes.h).
#ifndef QF_QUEUE_QQ_H
#define QF_QUEUE_QQ_H

#include <sys/types.h>

#include <ctime>
#include <string>

namespace qf::queue {

/// The whole of qmail-queue. Returns its exit code; never prints.
int qmail_queue(int msgfd, int envfd);

/// The Received: line qmail-queue puts first in every message, with its newline:
/// "Received: (qmail PID invoked HOW); DATE\n", HOW being "by alias", "from
/// network", "for bounce" or "by uid UID" according to the caller's uid.
std::string received_line(pid_t pid, uid_t uid, time_t now);

}  // namespace qf::queue

#endif
