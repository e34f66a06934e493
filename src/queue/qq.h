// ISC license.
// qmail-queue: read a message on one fd and an envelope on another, commit both
// to one queue, print nothing, return djb's exit code (sys/exitcodes.h).
#ifndef QF_QUEUE_QQ_H
#define QF_QUEUE_QQ_H

#include <sys/types.h>

#include <ctime>
#include <string>

namespace qf::queue {

class Injection;

/// The exit code for a failure with errno err at a step whose own code is
/// step_code: disk full, quota and file size (ENOSPC, EDQUOT, EFBIG) are a
/// write error (53) and ENOMEM is 51 at every step.
int code_for(int err, int step_code);
/// The exit code for a failed Injection::commit() (errno err): 53 for the
/// fsync of intd/N or of the mess/ directory, 66 for the todo/ link or the
/// fsync of its directory (qmail-queue(8)).
int commit_failure_code(Injection const& inj, int err);

/// The whole of qmail-queue. Returns its exit code; never prints.
int qmail_queue(int msgfd, int envfd);

/// The Received: line qmail-queue puts first in every message, with its newline:
/// "Received: (qmail PID invoked HOW); DATE\n", HOW being "by alias", "from
/// network", "for bounce" or "by uid UID" according to the caller's uid.
/// The answer for each uid is kept for the life of the process (qmail-queued
/// asks for every message).
std::string received_line(pid_t pid, uid_t uid, time_t now);

/// HOW of the Received: line for uid, from the account database (uncached);
/// *settled (if given) is false when the lookup failed for a reason that may
/// pass (not "no such uid").
std::string invoked_how(uid_t uid, bool* settled = nullptr);

}  // namespace qf::queue

#endif
