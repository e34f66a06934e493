// ISC license.
// qmail-smtpd's own listener (qmail-smtpd -l): what tcpserver does for it,
// without an exec per connection. The listener binds, drops to the given
// uid/gid, and forks a child per connection (up to a limit) that sets
// tcpserver's variables and serves the session: the child is a copy of a
// process already loaded, so a connection costs a fork, not a program start.
#ifndef QF_SMTPD_LISTEN_H
#define QF_SMTPD_LISTEN_H

#include <sys/types.h>

#include <string>

namespace qf::smtpd {

struct ListenOptions {
  std::string addr = "0";  ///< IPv4 or IPv6 literal; "0" every IPv4 address
  std::string port = "25";
  unsigned max = 20;        ///< connections served at once (tcpserver -c)
  bool drop = false;        ///< switch to uid/gid after binding (tcpserver -u -g)
  uid_t uid = 0;
  gid_t gid = 0;
  std::string local_host;   ///< TCPLOCALHOST (tcpserver -l); "0": none
};

/// Runs until TERM (then waits for the sessions in progress). Returns the
/// exit code: 111 when the address cannot be bound or the ids not taken.
int listen_and_serve(ListenOptions const& o);

}  // namespace qf::smtpd

#endif
