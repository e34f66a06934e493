// ISC license.
// The last-resort timer of a process that runs one local delivery (the
// qmail-local program, or a qmail-lspawn delivery child). Programs have their
// own deadline (program.h); this one catches a delivery stuck elsewhere, e.g.
// in a write to a hung file system. When it fires it kills the running
// program's process group, removes the Maildir file being written, writes a
// report line to the report fd and exits 111 (temporary failure).
#ifndef QF_DELIVER_WATCHDOG_H
#define QF_DELIVER_WATCHDOG_H

#include <sys/types.h>

namespace qf::deliver {

/// Arms SIGALRM for seconds from now (0: disarm). report_fd gets
/// "Timeout on local delivery. (#4.3.0)\n" when it fires.
void watchdog_arm(int report_fd, unsigned seconds);

/// Records the process group of the running program (0: none).
void watchdog_program(pid_t pgid);

/// Records the temporary Maildir file being written, relative to dirfd
/// (nullptr: none). name is copied; at most 255 bytes are kept.
void watchdog_tmpfile(int dirfd, char const* name);

}  // namespace qf::deliver

#endif
