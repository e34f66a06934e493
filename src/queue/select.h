// ISC license.
// Which queue an injection goes to (DESIGN.md §4).
//   QUEUEDIR set          -> that queue
//   QUEUE_COUNT or QUEUE_BASE set -> one of QUEUE_BASE/queue{QUEUE_START..+QUEUE_COUNT-1}
//   otherwise             -> the classic single queue, home/queue
// Running setuid, QUEUE_BASE and QMAILHOME are ignored (the compiled-in base
// is used) and QUEUEDIR is refused unless it names a queue inside that base.
#ifndef QF_QUEUE_SELECT_H
#define QF_QUEUE_SELECT_H

#include <cstdint>
#include <string>

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

/// Chooses the queue for one injection. On failure returns false with *code set
/// to qmail-queue's exit code (62: refused or unusable QUEUEDIR).
bool choose_queue(std::string* dir, int* code);

/// A random 32-bit number (getrandom, falling back to time and pid).
uint32_t random32();

}  // namespace qf::queue

#endif
