// ISC license.
// qmail-rspawn, the remote spawner (qmail-rspawn(8)). It speaks the spawn
// protocol (src/proto/spawn.h) with qmail-send on fds 0 and 1 and delivers
// each command's recipients as one SMTP transaction through a pool of forked
// (never exec'd) worker processes. Each worker holds at most one open SMTP
// connection; a command goes to an idle worker already connected to its
// destination when there is one, so connections are reused.
//
// Master <-> worker, over one socketpair per worker, frames of
//   length (4 bytes, little-endian, counting what follows) type payload
// master -> worker: 'J' spawn-command (slot 0) | 'Q' close the connection | 'X' exit
// worker -> master: 'R' key NUL verdict then per recipient: status text NUL
//                   (key: the destination of the connection kept, "" for none;
//                   verdict as in the spawn protocol's reports)
#ifndef QF_REMOTE_RSPAWN_H
#define QF_REMOTE_RSPAWN_H

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "proto/spawn.h"
#include "queue/layout.h"

namespace qf::remote {

struct RspawnOptions {
  queue::Layout queue;
  unsigned slots = 0;      ///< written first; also the ceiling on workers
  uid_t message_owner = 0; ///< mess/N must belong to this uid
  unsigned worker_idle = 60;  ///< seconds an idle worker without a connection lives
};

/// fd 0 commands, fd 1 reports. Returns the exit code: 0 at EOF, 100 for a
/// malformed command, 111 when the reports cannot be written.
int rspawn(RspawnOptions const& o);

/// Results of one command: its recipients grouped by domain, each group one
/// delivery through d. Fills results in the command's recipient order, and
/// *verdict: site when a group failed as a whole, none when the message or
/// the control files could not be read, else ok.
class Deliverer;
class ConfigCache;
void deliver_command(spawn::Command const& c, queue::Layout const& q, uid_t owner,
                     ConfigCache* cfg, Deliverer* d, std::vector<spawn::Result>* results,
                     spawn::Verdict* verdict);

}  // namespace qf::remote

#endif
