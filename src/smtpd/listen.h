// ISC license.
// qmail-smtpd's own listener (qmail-smtpd -L): what tcpserver does for it,
// without an exec per connection. The listener binds, drops to the given
// uid/gid and, as Postfix's master does for its smtpd, keeps a pool of worker
// processes that accept on the shared socket and serve one session after
// another: a connection costs neither a program start nor a fork. A worker
// serves at most max_use sessions and leaves after max_idle seconds without a
// client; the listener forks another only when every worker is busy, up to max.
#ifndef QF_SMTPD_LISTEN_H
#define QF_SMTPD_LISTEN_H

#include <sys/types.h>

#include <string>

namespace qf::smtpd {

struct ListenOptions {
  std::string addr = "0";  ///< IPv4 or IPv6 literal; "0" every IPv4 address
  std::string port = "25";
  unsigned max = 20;        ///< connections served at once (tcpserver -c)
  unsigned max_use = 100;   ///< sessions per worker (1: a fork per connection)
  unsigned max_idle = 100;  ///< seconds a worker waits for a client before it exits
  bool drop = false;        ///< switch to uid/gid after binding (tcpserver -u -g)
  uid_t uid = 0;
  gid_t gid = 0;
  std::string local_host;   ///< TCPLOCALHOST (tcpserver -l); "0": none
};

/// Runs until TERM (then lets the sessions in progress finish). Returns the
/// exit code: 111 when the address cannot be bound or the ids not taken.
int listen_and_serve(ListenOptions const& o);

}  // namespace qf::smtpd

#endif
