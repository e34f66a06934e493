// ISC license.
#include "remote/route.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <strings.h>
#include <sys/socket.h>

#include <algorithm>

#include "addr/address.h"
#include "sys/fs.h"

namespace qf::remote {

using addr::canonical_ip;
using addr::lower;

void order_mx(std::vector<dns::Mx>* mx, std::mt19937* rng) {
  std::shuffle(mx->begin(), mx->end(), *rng);
  std::stable_sort(mx->begin(), mx->end(),
                   [](dns::Mx const& a, dns::Mx const& b) { return a.pref < b.pref; });
}

bool SelfCheck::is_me(std::string const& host, std::string const& ip, uint16_t port) const {
  std::string h = lower(host);
  while (!h.empty() && h.back() == '.') h.pop_back();
  for (auto const& n : names)
    if (n == h) return true;
  if (port != 25) return false;
  std::string c = canonical_ip(ip);
  for (auto const& mine : ips)
    if (mine == c) return true;
  return false;
}

SelfCheck SelfCheck::load(std::string const& me, std::vector<std::string> const& locals) {
  SelfCheck s;
  if (!me.empty()) s.names.push_back(lower(me));
  for (auto const& l : locals) s.names.push_back(lower(l));
  struct ifaddrs* ifa = nullptr;
  if (::getifaddrs(&ifa) == 0) {
    char buf[INET6_ADDRSTRLEN];
    for (auto* p = ifa; p; p = p->ifa_next) {
      if (!p->ifa_addr) continue;
      if (p->ifa_addr->sa_family == AF_INET) {
        auto* a = reinterpret_cast<sockaddr_in*>(p->ifa_addr);
        s.ips.push_back(inet_ntop(AF_INET, &a->sin_addr, buf, sizeof buf));
      } else if (p->ifa_addr->sa_family == AF_INET6) {
        auto* a = reinterpret_cast<sockaddr_in6*>(p->ifa_addr);
        s.ips.push_back(inet_ntop(AF_INET6, &a->sin6_addr, buf, sizeof buf));
      }
    }
    ::freeifaddrs(ifa);
  }
  s.ips.push_back("0.0.0.0");
  s.ips.push_back("::");
  return s;
}

dns::Result Resolver::mx(std::string const& name, std::vector<dns::Mx>* out) {
  return dns::mx(name, out);
}
dns::Result Resolver::ip4(std::string const& name, std::vector<std::string>* out) {
  return dns::ip4(name, out);
}
dns::Result Resolver::ip6(std::string const& name, std::vector<std::string>* out) {
  return dns::ip6(name, out);
}

namespace {

// Addresses of one host: IPv4 first, then IPv6 (mapped IPv4 dropped).
dns::Result addresses(Resolver& dns, std::string const& host, std::vector<std::string>* out) {
  out->clear();
  std::string lit = canonical_ip(host);
  if (!lit.empty()) {
    out->push_back(lit);
    return dns::Result::ok;
  }
  std::vector<std::string> v4, v6;
  dns::Result r4 = dns.ip4(host, &v4);
  dns::Result r6 = dns.ip6(host, &v6);
  for (auto& a : v4) out->push_back(a);
  for (auto& a : v6)
    if (a.compare(0, 7, "::ffff:") != 0 && std::find(out->begin(), out->end(), a) == out->end())
      out->push_back(a);
  if (!out->empty()) return dns::Result::ok;
  if (r4 == dns::Result::temp || r6 == dns::Result::temp) return dns::Result::temp;
  return r4 == dns::Result::perm ? dns::Result::perm : dns::Result::ok;
}

}  // namespace

Resolution resolve(Route const& route, Resolver& dns, SelfCheck const& self, std::mt19937* rng) {
  Resolution res;
  std::vector<std::string> addrs;
  if (route.kind == Route::Kind::literal) {
    if (self.is_me("", route.host, route.port)) {
      res.status = Resolution::Status::perm;
      res.text =
          "Sorry. Although I'm listed as a best-preference MX or A for that host,\n"
          "it isn't in my control/locals file, so I don't treat it as local. (#5.4.6)\n";
      return res;
    }
    res.targets.push_back({"[" + route.host + "]", route.host, route.port, 0});
    return res;
  }
  if (route.kind == Route::Kind::relay) {
    std::string host = route.host, lit;
    if (parse_literal(host, &lit)) host = lit;
    dns::Result r = addresses(dns, host, &addrs);
    if (r == dns::Result::temp) {
      res.status = Resolution::Status::temp;
      res.text = "Sorry, I couldn't find any host by that name. (#4.1.2)\n";
      return res;
    }
    if (addrs.empty()) {
      res.status = Resolution::Status::perm;
      res.text = "Sorry, I couldn't find any host named " + route.host + ". (#5.1.2)\n";
      return res;
    }
    for (auto& a : addrs) res.targets.push_back({route.host, a, route.port, 0});
    return res;
  }
  std::vector<dns::Mx> mx;
  dns::Result r = dns.mx(route.host, &mx);
  if (r == dns::Result::temp) {
    res.status = Resolution::Status::temp;
    res.text = "Sorry, I couldn't find any host by that name. (#4.1.2)\n";
    return res;
  }
  if (r == dns::Result::perm) {
    res.status = Resolution::Status::perm;
    res.text = "Sorry, I couldn't find any host named " + route.host + ". (#5.1.2)\n";
    return res;
  }
  bool implicit = mx.empty();
  if (implicit) mx.push_back({0, route.host});
  order_mx(&mx, rng);
  bool temp = false;
  bool me_seen = false;
  unsigned prefme = 0;
  for (auto const& m : mx) {
    if (me_seen && m.pref >= prefme) break;
    dns::Result ar = addresses(dns, m.host, &addrs);
    if (ar == dns::Result::temp) temp = true;
    bool me = self.is_me(m.host, "", route.port);
    for (auto const& a : addrs) me = me || self.is_me(m.host, a, route.port);
    if (me) {
      // Everything at this preference or worse would loop back to us.
      me_seen = true;
      prefme = m.pref;
      std::vector<Target> keep;
      for (auto& t : res.targets)
        if (t.pref < prefme) keep.push_back(std::move(t));
      res.targets = std::move(keep);
      continue;
    }
    for (auto const& a : addrs) res.targets.push_back({m.host, a, route.port, m.pref});
  }
  if (!res.targets.empty()) return res;
  if (me_seen) {
    res.status = Resolution::Status::perm;
    res.text =
        "Sorry. Although I'm listed as a best-preference MX or A for that host,\n"
        "it isn't in my control/locals file, so I don't treat it as local. (#5.4.6)\n";
  } else if (temp) {
    res.status = Resolution::Status::temp;
    res.text = "Sorry, I couldn't find any host by that name. (#4.1.2)\n";
  } else if (implicit) {
    res.status = Resolution::Status::perm;
    res.text = "Sorry, I couldn't find any host named " + route.host + ". (#5.1.2)\n";
  } else {
    res.status = Resolution::Status::perm;
    res.text = "Sorry, I couldn't find a mail exchanger or IP address. (#5.4.4)\n";
  }
  return res;
}

}  // namespace qf::remote
