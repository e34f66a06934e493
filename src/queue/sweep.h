// ISC license.
// Clean-up rules for files a crash leaves behind (qmail's OSSIFIED rule):
// a pid/ file, or a message in S2 (mess only) or S3 (mess + intd), whose last
// access is older than 36 hours and that no live injector holds (flock) may be
// removed. 36 h exceeds qmail-queue's 24 h self-timeout, so a slow injection
// is never swept from under its writer.
#ifndef QF_QUEUE_SWEEP_H
#define QF_QUEUE_SWEEP_H

#include <ctime>
#include <cstdint>

#include "queue/layout.h"

namespace qf::queue {

inline constexpr time_t kOssified = 129600;     ///< 36 h
inline constexpr unsigned kDeathSeconds = 86400;  ///< qmail-queue's self-timeout

/// True when a file last accessed at atime is past the reclaim age at now.
inline bool ossified(time_t atime, time_t now) { return now > atime && now - atime > kOssified; }

/// True when a live injector holds path (exclusive flock taken by Injection).
bool held_by_injector(char const* path);

/// Removes pid/ files past the reclaim age that no injector holds; returns how many.
unsigned sweep_pid(Layout const& q, time_t now);

/// True when message id is a crash leftover that may be removed now: in S2 or
/// S3, mess/ past the reclaim age, not held by an injector.
bool reclaimable(Layout const& q, uint64_t id, time_t now);

/// Removes intd/N and mess/N (qmail-clean's "foop" request). ENOENT is success.
bool remove_leftover(Layout const& q, uint64_t id);

}  // namespace qf::queue

#endif
