// ISC license.
#include "addr/rewrite.h"

#include <vector>

#include "conf/control.h"

namespace qf::addr {

void Rewriter::add_local(std::string_view d) { locals_.insert(lower(d)); }
void Rewriter::add_percenthack(std::string_view d) { percent_.insert(lower(d)); }

void Rewriter::add_virtual(std::string_view line) {
  size_t colon = line.find(':');
  if (colon == std::string_view::npos) return;
  vdoms_[lower(line.substr(0, colon))] = std::string(line.substr(colon + 1));
}

bool Rewriter::load() {
  // All or nothing: a failed reread keeps the rules in force.
  Rewriter fresh;
  std::string me;
  if (!conf::control_line("me", &me, "")) return false;
  if (!conf::control_line("envnoathost", &fresh.envnoathost_, me)) return false;
  std::vector<std::string> v;
  if (!conf::control_list("locals", &v)) return false;
  if (v.empty() && !conf::control_exists("locals") && !me.empty()) v.push_back(me);
  for (auto const& d : v) fresh.add_local(d);
  if (!conf::control_list("virtualdomains", &v)) return false;
  for (auto const& l : v) fresh.add_virtual(l);
  if (!conf::control_list("percenthack", &v)) return false;
  for (auto const& d : v) fresh.add_percenthack(d);
  *this = std::move(fresh);
  return true;
}

Rewritten Rewriter::rewrite(std::string_view in) const {
  std::string addr(in);
  if (addr.find('@') == std::string::npos) addr += "@" + envnoathost_;
  size_t at = addr.rfind('@');
  // user%host@dom -> user@host while dom is a percenthack domain
  for (int guard = 0; guard < 100; guard++) {
    at = addr.rfind('@');
    if (!percent_.count(lower(std::string_view(addr).substr(at + 1)))) break;
    size_t pct = addr.rfind('%', at);
    if (pct == std::string::npos) break;
    addr = addr.substr(0, pct) + "@" + addr.substr(pct + 1, at - pct - 1);
  }
  at = addr.rfind('@');
  std::string domain = lower(std::string_view(addr).substr(at + 1));
  if (locals_.count(domain)) return {true, addr};
  if (!vdoms_.empty()) {
    std::string la = lower(addr);
    auto hit = vdoms_.find(la);
    if (hit == vdoms_.end()) hit = vdoms_.find(domain);
    for (size_t i = 0; hit == vdoms_.end() && i < domain.size(); i++)
      if (domain[i] == '.') hit = vdoms_.find(domain.substr(i));
    if (hit == vdoms_.end()) hit = vdoms_.find("");
    if (hit != vdoms_.end()) {
      if (hit->second.empty()) return {false, addr};
      return {true, hit->second + "-" + addr};
    }
  }
  return {false, addr};
}

std::string Rewriter::strip_virtual_prefix(std::string_view rcpt) const {
  size_t at = rcpt.rfind('@');
  if (at == std::string_view::npos) return std::string(rcpt);
  std::string domain = lower(rcpt.substr(at + 1));
  for (size_t i = 0; i <= domain.size(); i++) {
    if (i != 0 && i != domain.size() && domain[i] != '.') continue;
    auto hit = vdoms_.find(domain.substr(i));
    if (hit == vdoms_.end()) continue;
    std::string const& p = hit->second;
    if (p.empty() || rcpt.size() <= p.size() || rcpt.compare(0, p.size(), p) != 0 ||
        rcpt[p.size()] != '-')
      break;
    return std::string(rcpt.substr(p.size() + 1));
  }
  return std::string(rcpt);
}

}  // namespace qf::addr
