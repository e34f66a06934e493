// ISC license.
// Where mail for a domain goes: smtproutes (qmail-control(5)), address
// literals, MX records in preference order (equal preferences shuffled), A and
// AAAA records, and the "MX points back to me" rule. The pure parts (parsing,
// matching, ordering) are separate from the lookups so that tests can drive
// them without a network.
#ifndef QF_REMOTE_ROUTE_H
#define QF_REMOTE_ROUTE_H

#include <cstdint>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "owfat/resolve.h"

namespace qf::remote {

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
};

/// Where one delivery goes, before any lookup.
struct Route {
  enum class Kind { relay, mx, literal } kind = Kind::mx;
  std::string host;  ///< relay host, domain for MX, or the address for a literal
  uint16_t port = 25;
  /// Identifies the destination for connection reuse: two deliveries with the
  /// same key may share one SMTP connection.
  std::string key() const;
};

/// The route of domain (lower-case) under routes.
Route route_for(Routes const& routes, std::string_view domain);

/// An address literal "[1.2.3.4]" or "[IPv6:..]"/"[::1]" as the address text;
/// false if s is not bracketed or not an address.
bool parse_literal(std::string_view s, std::string* addr);

/// Sorts MX records by preference and shuffles those of equal preference.
void order_mx(std::vector<dns::Mx>* mx, std::mt19937* rng);

/// One address to try, in order.
struct Target {
  std::string name;  ///< the MX or relay host name (the literal for literals)
  std::string ip;    ///< numeric address text
  uint16_t port = 25;
  unsigned pref = 0;
};

/// The outcome of resolving a route.
struct Resolution {
  enum class Status { ok, temp, perm } status = Status::ok;
  std::string text;  ///< for temp and perm: the qmail-style explanation
  std::vector<Target> targets;
};

/// Tells whether an MX host is this machine.
struct SelfCheck {
  std::vector<std::string> names;  ///< me and the locals, lower-case
  std::vector<std::string> ips;    ///< our interface addresses (checked for port 25 only)
  bool is_me(std::string const& host, std::string const& ip, uint16_t port) const;
  /// names from me+locals, ips from getifaddrs(3).
  static SelfCheck load(std::string const& me, std::vector<std::string> const& locals);
};

/// The lookups route needs; a seam so that unit tests can answer.
struct Resolver {
  virtual ~Resolver() = default;
  virtual dns::Result mx(std::string const& name, std::vector<dns::Mx>* out);
  virtual dns::Result ip4(std::string const& name, std::vector<std::string>* out);
  virtual dns::Result ip6(std::string const& name, std::vector<std::string>* out);
};

/// Resolves route into targets: relay or literal directly, otherwise MX then
/// A/AAAA (no MX: the domain's own addresses). MX hosts at or below the first
/// preference that is this machine are dropped; if that leaves none, the
/// result is permanent (#5.4.6).
Resolution resolve(Route const& route, Resolver& dns, SelfCheck const& self, std::mt19937* rng);

}  // namespace qf::remote

#endif
