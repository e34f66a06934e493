// ISC license.
#include "send/sched.h"

#include <algorithm>

#include "send/rewrite.h"

namespace qf::send {

uint64_t isqrt(uint64_t x) {
  uint64_t r = 0, bit = uint64_t(1) << 62;
  while (bit > x) bit >>= 2;
  while (bit) {
    if (x >= r + bit) {
      x -= r + bit;
      r = (r >> 1) + bit;
    } else {
      r >>= 1;
    }
    bit >>= 2;
  }
  return r;
}

time_t QmailRetry::next(Channel c, time_t birth, time_t now) const {
  uint64_t n = now > birth ? isqrt(uint64_t(now - birth)) : 0;
  n += c == kLocal ? 10 : 20;
  return birth + time_t(n * n);
}

void DueQueue::all_due(time_t now) {
  auto v = drain();
  for (auto const& [id, due] : v) push(id, std::min(due, now));
}

std::vector<std::pair<uint64_t, time_t>> DueQueue::drain() {
  std::vector<std::pair<uint64_t, time_t>> v;
  v.reserve(heap_.size());
  while (!heap_.empty()) {
    v.emplace_back(heap_.top().id, heap_.top().due);
    heap_.pop();
  }
  return v;
}

bool parse_channel_file(std::string_view data, std::vector<Rcpt>* pending) {
  pending->clear();
  size_t pos = 0;
  while (pos < data.size()) {
    size_t nul = data.find('\0', pos);
    if (nul == std::string_view::npos) return false;
    char t = data[pos];
    if (t == 'T')
      pending->push_back({std::string(data.substr(pos + 1, nul - pos - 1)), pos});
    else if (t != 'D')
      return false;
    pos = nul + 1;
  }
  return true;
}

std::string domain_of(std::string_view addr) {
  size_t at = addr.rfind('@');
  return at == std::string_view::npos ? std::string() : lower(addr.substr(at + 1));
}

void group_by_domain(std::vector<Rcpt>* r) {
  std::stable_sort(r->begin(), r->end(),
                   [](Rcpt const& a, Rcpt const& b) { return domain_of(a.addr) < domain_of(b.addr); });
}

size_t next_batch(std::vector<Rcpt> const& r, size_t from, Channel c, size_t limit) {
  if (from >= r.size()) return 0;
  if (c == kLocal || limit <= 1) return 1;
  std::string d = domain_of(r[from].addr);
  size_t n = 1;
  while (from + n < r.size() && n < limit && domain_of(r[from + n].addr) == d) n++;
  return n;
}

std::string verp_sender(std::string_view s, std::string_view rcpt) {
  if (s.size() < 4 || s.substr(s.size() - 4) != "-@[]") return std::string(s);
  size_t j = s.substr(0, s.size() - 4).rfind('@');
  size_t k = rcpt.rfind('@');
  if (j == std::string_view::npos || k == std::string_view::npos) return std::string(s);
  // owner-@host-@[] -> owner-box=rcpthost@host
  std::string r(s.substr(0, j));
  r += rcpt.substr(0, k);
  r += '=';
  r += rcpt.substr(k + 1);
  r += '@';
  r += s.substr(j + 1, s.size() - 4 - j - 1);
  return r;
}

}  // namespace qf::send
