// ISC license.
// qmail-local as a library: deliver one message to one local recipient by the
// instructions of the recipient's .qmail file (dot-qmail(5)). Called by the
// qmail-local program and, after switching to the recipient's user, by a
// qmail-lspawn delivery child (no exec on the delivery path).
//
// The caller has already become the recipient's user. deliver_local changes
// no process-wide state (no chdir, umask, signal disposition or environment
// variable); it forks for programs and forwards, and tells watchdog.h which
// program and which Maildir file are in progress.
#ifndef QF_DELIVER_LOCAL_H
#define QF_DELIVER_LOCAL_H

#include <ctime>
#include <string>

namespace qf::deliver {

/// Default of control/timeoutlocal, in seconds.
inline constexpr unsigned kDefaultTimeoutLocal = 86400;

/// Most bytes of one program's output kept for the report.
inline constexpr size_t kMaxProgramOutput = 10000;

/// qmail-local's arguments (qmail-local(8)).
struct LocalDelivery {
  std::string user;              ///< $USER
  std::string home;              ///< absolute path of the home directory
  std::string local;             ///< the address's local part, as received
  std::string dash;              ///< "" or "-"
  std::string ext;               ///< the extension, as received
  std::string host;              ///< the address's domain
  std::string sender;            ///< envelope sender ("" for a bounce)
  std::string default_delivery;  ///< instructions when there is no .qmail file
  bool dry_run = false;          ///< -n: say what would be done, do nothing
  unsigned timeout = kDefaultTimeoutLocal;  ///< budget for the whole delivery, seconds
  time_t now = 0;                ///< time for the From_ line; 0: the current time
};

/// Reads control/timeoutlocal (kDefaultTimeoutLocal when missing). False with
/// errno set when it cannot be read or is not a positive number.
bool read_timeoutlocal(unsigned* out);

/// Delivers the message on messfd (a seekable file; read from offset 0) and
/// returns qmail-local's exit code: 0 delivered, 100 permanent failure, 111
/// temporary failure. Appends the human report (program output, then
/// "did F+W+P\n" and "qp N\n" on success, or the reason on failure) to *report.
/// fds 0, 1 and 2 must be open.
int deliver_local(LocalDelivery const& d, int messfd, std::string* report);

}  // namespace qf::deliver

#endif
