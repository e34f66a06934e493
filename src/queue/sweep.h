// ISC license.
// Clean-up rules for files a crash leaves behind. qmail could not tell a
// leftover from a message being written, so it waited 36 hours (OSSIFIED,
// longer than qmail-queue's 24 h self-timeout). qfleet's qmail-queue holds an
// exclusive flock on the message from before its mess/ name exists until it
// exits, so:
//   - a message in S2 (mess only) or S3 (mess + intd) that no injector holds is
//     a leftover (a killed injection, or a finished message whose removal was
//     cut short) and may be removed at once;
//   - a pid/ file is locked just after it is created, so it must also be a
//     minute old (kPidGrace) before an unheld one is removed.
// The 36-hour rule remains for pid/ files of injectors that do not lock.
#ifndef QF_QUEUE_SWEEP_H
#define QF_QUEUE_SWEEP_H

#include <ctime>
#include <cstdint>

#include "queue/layout.h"

namespace qf::queue {

inline constexpr time_t kOssified = 129600;     ///< 36 h
inline constexpr time_t kPidGrace = 60;         ///< a pid/ file's lock follows its creation
inline constexpr unsigned kDeathSeconds = 86400;  ///< qmail-queue's self-timeout

/// True when a file last accessed at atime is past the reclaim age at now.
inline bool ossified(time_t atime, time_t now) { return now > atime && now - atime > kOssified; }

/// True when a live injector holds path (exclusive flock taken by Injection).
bool held_by_injector(char const* path);

/// Removes pid/ files older than kPidGrace that no injector holds; returns how many.
unsigned sweep_pid(Layout const& q, time_t now);

/// Removes every intd/N that has neither mess/N nor todo/N; returns how many.
/// No injection is ever in that state (mess/N is linked before intd/N is
/// made and removed after it), but a crash on ext4 without a journal can
/// leave it: e2fsck clears mess/N's entry when the message's inode never
/// reached the disk while the envelope's did (another file's fsync wrote
/// the inode-table block they share). qmail-clean runs it when it starts.
unsigned sweep_orphan_envelopes(Layout const& q);

/// True when message id is a leftover that may be removed now: in S2 or S3 and
/// not held by an injector.
bool reclaimable(Layout const& q, uint64_t id, time_t now);

/// Removes intd/N and mess/N (qmail-clean's "foop" request). ENOENT is success.
bool remove_leftover(Layout const& q, uint64_t id);

}  // namespace qf::queue

#endif
