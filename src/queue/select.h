// ISC license.
// Which queue an injection goes to (DESIGN.md §4, multi-queue(7)).
//   QUEUEDIR set            -> that queue
//   QUEUE_COUNT or QUEUE_BASE set -> one of the numbered queues QUEUE_BASE/queueN
//   otherwise               -> the classic single queue, home/queue
// Among numbered queues the policy ($QUEUE_POLICY) is random, least (the
// lowest load in qscheduler's segment) or hash (Mailman's slice: a hash of
// the message's first block picks the queue, stable while the count is). With
// a segment present its queue range and states rule: a queue that is not
// active is never picked. Every pick takes a shared lock on the queue's
// lock/drain; a queue whose drainer holds it exclusively is skipped.
// Running setuid, QUEUE_BASE and QMAILHOME are ignored (the compiled-in base is
// used) and QUEUEDIR is refused unless it names a queue inside that base.
#ifndef QF_QUEUE_SELECT_H
#define QF_QUEUE_SELECT_H

#include <cstdint>
#include <string>
#include <string_view>

#include "sys/fd.h"

namespace qf::queue {

/// The numbered queue set from the environment.
struct QueueSet {
  std::string base;
  unsigned start = 1;
  unsigned count = 1;
  /// base/queueN
  std::string queue(unsigned n) const;
};

/// Reads QUEUE_BASE, QUEUE_START, QUEUE_COUNT. False when none of QUEUE_BASE and
/// QUEUE_COUNT is set (single-queue mode).
bool queue_set_from_env(QueueSet* out);

enum class Policy { random, least, hash };
/// $QUEUE_POLICY, else least when qscheduler runs load-driven, else random.
Policy policy_from_env(bool dynamic);

/// The queue chosen for one injection.
struct Choice {
  std::string dir;
  std::string base;     ///< set for a numbered queue
  unsigned number = 0;  ///< N of queueN, 0 otherwise
  bool notify = false;  ///< send a note to the queue's message queue
  bool trigger = true;  ///< pull lock/trigger (also the fallback of a failed note)
  Fd drain_lock;        ///< shared lock held until the injection ends
};

/// Chooses the queue. head: the first bytes of the message (hash policy). On
/// failure returns false with *code set to qmail-queue's exit code (62).
bool choose_queue(std::string_view head, Choice* out, int* code);

/// A random 32-bit number (getrandom, falling back to time and pid).
uint32_t random32();

/// 64-bit FNV-1a.
uint64_t hash64(std::string_view s);

}  // namespace qf::queue

#endif
