// ISC license.
// Where mail for a domain goes: the route of addr/routes.h, then MX records
// in preference order (equal preferences shuffled), A and AAAA records, and the "MX points back to me" rule. The pure parts (parsing,
// matching, ordering) are separate from the lookups so that tests can drive
// them without a network.
#ifndef QF_REMOTE_ROUTE_H
#define QF_REMOTE_ROUTE_H

#include <cstdint>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "addr/routes.h"
#include "owfat/resolve.h"

namespace qf::remote {

using addr::parse_literal;
using addr::Route;
using addr::route_for;
using addr::RouteEntry;
using addr::Routes;

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
