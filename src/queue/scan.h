// ISC license.
// Listing the messages of a queue directory without a system call per message.
#ifndef QF_QUEUE_SCAN_H
#define QF_QUEUE_SCAN_H

#include <cstdint>
#include <vector>

#include "queue/layout.h"

namespace qf::queue {

/// Every message id that has a file in d (each split subdirectory when d is
/// split in q), sorted. Unreadable directories are skipped (*ok set false).
std::vector<uint64_t> list_ids(Layout const& q, Dir d, bool* ok = nullptr);

}  // namespace qf::queue

#endif
