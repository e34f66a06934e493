// ISC license.
// qmail-rspawn, the remote spawner. Until SMTP delivery lands it speaks the
// spawn protocol (src/proto/spawn.h) and defers every recipient with a
// temporary error, so remote mail waits in the queue instead of bouncing.
#ifndef QF_REMOTE_RSPAWN_H
#define QF_REMOTE_RSPAWN_H

namespace qf::remote {

/// fd 0 commands, fd 1 reports. Returns the exit code at EOF.
int rspawn_defer_all();

}  // namespace qf::remote

#endif
