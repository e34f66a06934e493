// ISC license.
// qmail-lspawn: the local delivery spawner. Reads commands from qmail-send
// (proto/spawn.h), runs each recipient's delivery in a child that maps the
// recipient to a user (usermap.h), becomes that user and calls deliver_local
// in-process, and writes one report per command. A recipient of users/assign
// goes instead to a persistent worker of its user (forked, became the user
// once, delivers one message at a time; see qmail-lspawn(8)). One poll loop
// over the command pipe, the children's result pipes, the busy workers'
// sockets and a self-pipe for SIGCHLD.
#ifndef QF_DELIVER_LSPAWN_H
#define QF_DELIVER_LSPAWN_H

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <string>

#include "deliver/outcome.h"
#include "deliver/usermap.h"
#include "proto/spawn.h"
#include "queue/layout.h"
#include "sys/fd.h"

namespace qf::deliver {

/// Most bytes of one recipient's report (qmail-lspawn's truncreport).
inline constexpr size_t kMaxLocalReport = 3000;

struct LspawnConfig {
  std::string default_delivery;  ///< argv[1]: instructions when there is no .qmail
  queue::Layout queue{"", 1, false};
  unsigned slots = 0;             ///< announced to qmail-send
  unsigned timeout = 0;           ///< timeoutlocal
  bool privileged = false;        ///< switch to each recipient's user (root, not embedded)
  uid_t message_owner = 0;        ///< qmailq when privileged, our uid otherwise
  std::string assign_path;        ///< QMAILHOME/users/assign
  /// Where warnings go (one line each, without "prog: warning: "); none if empty.
  std::function<void(std::string const&)> warn;
};

/// True when QFLEET_EMBEDDED is set to anything but "" or "0".
bool embedded_requested();

/// The configuration from the environment and control files: the queue is
/// $QUEUEDIR, else the default queue; privileged when running as root and not
/// embedded. False with *err when an account it needs is missing; a bad
/// timeoutlocal gives a warning in *warning and the default.
bool lspawn_config(std::string default_delivery, LspawnConfig* out, std::string* err,
                   std::string* warning);

/// Becomes the user of m: privileged, with setgroups (initgroups when
/// USE_SETGROUPS is 1 or lists the user), setgid and setuid, refusing uid 0;
/// unprivileged, only when m.uid is already ours. False with *err.
bool become_user(UserMapping const& m, bool privileged, std::string* err);

/// The status qmail-send gets for one recipient from the delivery child's wait
/// status and report: exit 0 K, 100 D, anything else Z; a crash Z. The text is
/// cut to kMaxLocalReport bytes (truncated: more was written).
spawn::Result result_of(int wstat, std::string text, bool truncated);

/// The spawner loop. Writes the slot count on repfd, then serves commands from
/// cmdfd until end of file and every delivery in flight has been reported.
/// Returns 0, or 111 after a malformed command stream (it stops reading there).
int run_lspawn(LspawnConfig const& c, int cmdfd, int repfd);

}  // namespace qf::deliver

#endif
