// ISC license.
// smtproutes (qmail-control(5)) and the destination it gives a domain, pure:
// the one parser and matcher, used by qmail-rspawn to pick a cached
// connection and by qmail-send to key its per-destination scheduling.
#ifndef QF_ADDR_ROUTES_H
#define QF_ADDR_ROUTES_H

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace qf::addr {

/// One line of smtproutes: domain:relay[:port].
struct RouteEntry {
  std::string domain;  ///< lower-cased; "" is the default route, ".x" matches below x
  std::string relay;   ///< host name or literal "[1.2.3.4]"; "" means "use MX"
  uint16_t port = 25;
};

/// The parsed smtproutes file.
class Routes {
 public:
  /// Parses lines; bad lines (no ':', a bad port) are skipped and counted in *bad.
  void parse(std::vector<std::string> const& lines, size_t* bad = nullptr);
  /// The entry for domain, qmail style: the whole domain, then every suffix
  /// starting at a '.', longest first, then the default route ":relay".
  /// nullptr when nothing matches.
  RouteEntry const* match(std::string_view domain) const;
  size_t size() const { return entries_.size(); }

 private:
  std::vector<RouteEntry> entries_;  // first entry of a domain wins, as in qmail's constmap
  std::unordered_map<std::string, size_t> index_;  // domain -> entry
};

/// Where one delivery goes, before any lookup.
struct Route {
  enum class Kind { relay, mx, literal } kind = Kind::mx;
  std::string host;  ///< relay host, domain for MX, or the address for a literal
  uint16_t port = 25;
  /// Identifies the destination (Postfix's next hop): two deliveries with the
  /// same key may share one SMTP connection, and share one concurrency window.
  std::string key() const;
  /// The destination for people: host, or host:port when the port is not 25.
  std::string name() const;
};

/// The route of domain (lower-case) under routes.
Route route_for(Routes const& routes, std::string_view domain);

/// route_for(routes, domain).key().
std::string destination_key(Routes const& routes, std::string_view domain);

/// An address literal "[1.2.3.4]" or "[IPv6:..]"/"[::1]" as the address text;
/// false if s is not bracketed or not an address.
bool parse_literal(std::string_view s, std::string* addr);

/// Canonical text of a numeric address (so "127.000.0.1" and "::0:1"
/// compare), or "" when s is not one.
std::string canonical_ip(std::string_view s);

}  // namespace qf::addr

#endif
