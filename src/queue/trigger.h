// ISC license.
// lock/trigger: a FIFO whose reader (todo-proc) wakes on any byte. The writer
// never blocks and ignores every error: a lost wake-up is repaired by the
// reader's periodic scan. Bytes follow Postfix's qmgr triggers: I (new mail),
// A (ignore retry times), F (forget dead destinations), D (scan deferred),
// W (wake-up); NUL (qmail's clients) means W; "R" domain "\n" flushes one
// destination (sendmail -qR); other bytes are logged and ignored.
#ifndef QF_QUEUE_TRIGGER_H
#define QF_QUEUE_TRIGGER_H

#include <string>
#include <string_view>
#include <vector>

#include "queue/layout.h"

namespace qf::queue {

/// Writes bytes to q's lock/trigger without blocking. False (errno set) when
/// the FIFO cannot be opened or written; injectors ignore that (a lost wake-up
/// is repaired by todo-proc's scan), qmail-flush reports it.
bool pull_trigger(Layout const& q, std::string_view bytes = "I");

/// Postfix's flush requests: F A D I (sendmail -q), or one destination's.
inline constexpr std::string_view kFlushAll = "FADI";
std::string flush_destination_request(std::string_view domain);
/// "S" sender "\n": qmail-send tries the mail of sender now (sendmail -qS).
std::string flush_sender_request(std::string_view sender);

/// One queue of the instance: N of base/queueN (0 for a queue that is not
/// numbered: $QUEUEDIR or the default queue) and its directory.
struct QueueRef {
  unsigned number = 0;
  std::string dir;
};

/// Every queue of the instance, by number: $QUEUEDIR alone when set; else the
/// queues qscheduler's segment lists for the queue base (multi/ipc.h) and
/// every base/queueN that exists (a stopped or drained queue may still hold
/// mail), in order; else the default queue.
std::vector<QueueRef> instance_queues();

/// The queues a flush goes to when none is named: instance_queues()' dirs.
std::vector<std::string> flush_targets();

}  // namespace qf::queue

#endif
