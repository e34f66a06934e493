// ISC license.
// hold/: Postfix's hold queue for qfleet. Message N of a queue is held iff
// hold/N exists (hold/ is flat, qmails, 0700); its content is one line, the
// unix time it was held and the reason: "1700000000 reason\n". qmail-send
// never tries held mail; qmail-qsuper(8) writes and removes these files,
// qmail-send writes one for poison mail, qmail-qread(8) reads them.
//
// A hold/N older than mess/N belongs to an earlier message with the same
// inode number: it holds nothing (stale) and is removed by whoever finds it.
#ifndef QF_QUEUE_HOLD_H
#define QF_QUEUE_HOLD_H

#include <cstdint>
#include <ctime>
#include <string>
#include <string_view>

#include "queue/layout.h"

namespace qf::queue {

enum class HoldState { none, held, stale, trouble };

/// Whether message id is held: lstat of hold/N and, when it exists, of mess/N.
/// trouble: a stat failed (errno set) other than with ENOENT.
HoldState hold_state(Layout const& q, uint64_t id);

/// Creates hold/N holding "now reason\n", fsyncs it and hold/. An existing
/// hold/N is kept as it is (*created false). Run as root, the file is given to
/// qmails. False with errno set; a failure leaves no hold/N of ours behind.
/// sync false: neither the file nor hold/ is fsynced (the caller syncs hold/
/// once for a batch; an empty hold/N still holds).
bool hold_create(Layout const& q, uint64_t id, time_t now, std::string_view reason,
                 bool* created = nullptr, bool sync = true);

/// Removes hold/N and fsyncs hold/. A missing file is success.
bool hold_remove(Layout const& q, uint64_t id, bool sync = true);

/// Reads hold/N's line. False with errno set (ENOENT: not held); a line that
/// does not parse gives *when 0 and the whole line as *reason.
bool hold_read(Layout const& q, uint64_t id, time_t* when, std::string* reason);

}  // namespace qf::queue

#endif
