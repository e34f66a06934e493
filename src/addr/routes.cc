// ISC license.
#include "addr/routes.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <strings.h>
#include <sys/socket.h>

#include "addr/address.h"
#include "sys/fs.h"

namespace qf::addr {

std::string canonical_ip(std::string_view s) {
  std::string z(s);
  char buf[INET6_ADDRSTRLEN];
  unsigned char bin[16];
  if (inet_pton(AF_INET, z.c_str(), bin) == 1) return inet_ntop(AF_INET, bin, buf, sizeof buf);
  if (inet_pton(AF_INET6, z.c_str(), bin) == 1) return inet_ntop(AF_INET6, bin, buf, sizeof buf);
  return "";
}

void Routes::parse(std::vector<std::string> const& lines, size_t* bad) {
  entries_.clear();
  index_.clear();
  size_t nbad = 0;
  for (auto const& line : lines) {
    size_t colon = line.find(':');
    if (colon == std::string::npos) {
      nbad++;
      continue;
    }
    RouteEntry e;
    e.domain = lower(line.substr(0, colon));
    std::string rest = line.substr(colon + 1);
    // The relay may be a bracketed literal holding colons of its own.
    size_t portsep = std::string::npos;
    if (!rest.empty() && rest[0] == '[') {
      size_t close = rest.find(']');
      if (close == std::string::npos) {
        nbad++;
        continue;
      }
      if (close + 1 < rest.size()) {
        if (rest[close + 1] != ':') {
          nbad++;
          continue;
        }
        portsep = close + 1;
      }
    } else {
      portsep = rest.find(':');
    }
    e.relay = rest.substr(0, portsep);
    if (portsep != std::string::npos) {
      uint64_t p;
      std::string ps = rest.substr(portsep + 1);
      if (!ps.empty()) {
        if (!scan_u64(ps, &p) || p == 0 || p > 65535) {
          nbad++;
          continue;
        }
        e.port = uint16_t(p);
      }
    }
    if (index_.emplace(e.domain, entries_.size()).second) entries_.push_back(std::move(e));
  }
  if (bad) *bad = nbad;
}

RouteEntry const* Routes::match(std::string_view domain) const {
  std::string d = lower(domain);
  auto find = [&](std::string_view k) -> RouteEntry const* {
    auto it = index_.find(std::string(k));
    return it == index_.end() ? nullptr : &entries_[it->second];
  };
  for (size_t i = 0; i <= d.size(); i++) {
    if (i != 0 && i != d.size() && d[i] != '.') continue;
    if (auto* e = find(std::string_view(d).substr(i))) return e;
  }
  return nullptr;
}

std::string Route::name() const {
  return port == 25 ? host : host + ":" + fmt_u64(port);
}

std::string destination_key(Routes const& routes, std::string_view domain) {
  return route_for(routes, domain).key();
}

std::string Route::key() const {
  char k = kind == Kind::relay ? 'R' : kind == Kind::mx ? 'M' : 'L';
  return std::string(1, k) + host + ":" + fmt_u64(port);
}

bool parse_literal(std::string_view s, std::string* addr) {
  if (s.size() < 3 || s.front() != '[' || s.back() != ']') return false;
  std::string_view in = s.substr(1, s.size() - 2);
  if (in.size() > 5 && !strncasecmp(in.data(), "IPv6:", 5)) in.remove_prefix(5);
  std::string c = canonical_ip(in);
  if (c.empty()) return false;
  *addr = c;
  return true;
}

Route route_for(Routes const& routes, std::string_view domain) {
  Route r;
  std::string lit;
  RouteEntry const* e = routes.match(domain);
  if (e && !e->relay.empty()) {
    r.kind = Route::Kind::relay;
    r.port = e->port;
    r.host = parse_literal(e->relay, &lit) ? "[" + lit + "]" : lower(e->relay);
    return r;
  }
  if (e) r.port = e->port;  // "domain::port": MX lookup, another port
  if (parse_literal(domain, &lit)) {
    r.kind = Route::Kind::literal;
    r.host = lit;
    return r;
  }
  r.kind = Route::Kind::mx;
  r.host = lower(domain);
  return r;
}

}  // namespace qf::addr
