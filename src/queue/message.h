// ISC license.
// Opening a queued message for delivery, the one way both spawners do it.
#ifndef QF_QUEUE_MESSAGE_H
#define QF_QUEUE_MESSAGE_H

#include <sys/types.h>

#include <cstdint>
#include <string>

#include "queue/layout.h"
#include "sys/fd.h"

namespace qf::queue {

/// Opens mess/<id> of q for reading as qmail's spawners insist: O_NOFOLLOW
/// and O_NONBLOCK (a FIFO never blocks us), then fstat must show a regular
/// file owned by owner, with one link, whose inode is id; the fd is returned
/// blocking in *out. Anything else is refused with *why set to the
/// temporary-failure text for the delivery report (no newline), e.g. "Sorry,
/// message has wrong link count. (#4.3.5)".
bool open_message(Layout const& q, uint64_t id, uid_t owner, Fd* out, std::string* why);

}  // namespace qf::queue

#endif
