// ISC license.
// lock/trigger: a FIFO whose reader (todo-proc) wakes on any byte. The writer
// never blocks and ignores every error: a lost wake-up is repaired by the
// reader's periodic scan. Bytes follow Postfix's qmgr triggers: I (new mail),
// A (ignore retry times), F (forget dead destinations), D (scan deferred),
// W (wake-up); any other byte, such as the NUL of old qmail clients, means W.
#ifndef QF_QUEUE_TRIGGER_H
#define QF_QUEUE_TRIGGER_H

#include <string_view>

#include "queue/layout.h"

namespace qf::queue {

/// Writes bytes to q's lock/trigger without blocking; errors are ignored.
void pull_trigger(Layout const& q, std::string_view bytes = "I");

}  // namespace qf::queue

#endif
