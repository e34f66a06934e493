// ISC license.
// qmail-smtpd's own listener (qmail-smtpd -L): what tcpserver does for it,
// without an exec per connection. The listener binds, drops to the given
// uid/gid and, as Postfix's master does for its smtpd, keeps a pool of worker
// processes that accept on the shared socket and serve one session after
// another: a connection costs neither a program start nor a fork. A worker
// serves at most max_use sessions and leaves after max_idle seconds without a
// client; the listener forks another only when every worker is busy, up to max.
// Each worker publishes its client's IP in a slot of a shared table, so that
// a client IP with smtpd_client_connection_count_limit sessions already gets
// "421 too many connections" instead of another worker.
#ifndef QF_SMTPD_LISTEN_H
#define QF_SMTPD_LISTEN_H

#include <sys/types.h>

#include <string>
#include <vector>

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
  /// smtpd_client_connection_count_limit: sessions one client IP may have at
  /// once (0: no limit); read by listen_and_serve, default max/2 (at least 1).
  unsigned per_ip = 0;
  /// smtpd_client_event_limit_exceptions: IPs (or prefixes ending in '.' or
  /// ':') the per-IP limit does not apply to.
  std::vector<std::string> per_ip_exceptions;
};

/// Reads the per-IP limit and its exceptions from the control directory into
/// o. False with errno when a file exists but cannot be read.
bool load_listen_controls(ListenOptions* o);

/// Is ip one of the exceptions (equal, or starting with an entry that ends
/// in '.' or ':')?
bool ip_excepted(std::vector<std::string> const& exceptions, std::string const& ip);

/// Runs until TERM (then lets the sessions in progress finish). Returns the
/// exit code: 111 when the address cannot be bound or the ids not taken.
int listen_and_serve(ListenOptions const& o);

}  // namespace qf::smtpd

#endif
