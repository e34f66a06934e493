// ISC license.
#include "queue/status.h"

#include <unordered_map>

#include "sys/fs.h"

namespace qf::queue {

void put_status(std::string* out, char channel, uint64_t when, std::string_view addr,
                std::string_view text) {
  out->push_back(channel);
  out->append(fmt_u64(when));
  out->push_back(' ');
  for (char c : addr) out->push_back(c ? c : '?');
  out->push_back('\0');
  for (char c : text) out->push_back(c ? c : '/');
  out->push_back('\0');
}

bool parse_status(std::string_view data, std::vector<RcptStatus>* out) {
  std::unordered_map<std::string, size_t> where;  // channel + address -> index in *out
  size_t pos = 0;
  while (pos < data.size()) {
    size_t nul1 = data.find('\0', pos);
    if (nul1 == std::string_view::npos) return false;
    size_t nul2 = data.find('\0', nul1 + 1);
    if (nul2 == std::string_view::npos) return false;
    std::string_view head = data.substr(pos, nul1 - pos);
    std::string_view text = data.substr(nul1 + 1, nul2 - nul1 - 1);
    pos = nul2 + 1;
    if (head.size() < 3 || (head[0] != 'L' && head[0] != 'R')) return false;
    size_t sp = head.find(' ');
    uint64_t when;
    if (sp == std::string_view::npos || !scan_u64(head.substr(1, sp - 1), &when)) return false;
    RcptStatus s;
    s.channel = head[0];
    s.when = when;
    s.addr = head.substr(sp + 1);
    s.text = text;
    std::string k = s.channel + s.addr;
    if (auto it = where.find(k); it != where.end()) {
      (*out)[it->second] = std::move(s);
    } else {
      where.emplace(std::move(k), out->size());
      out->push_back(std::move(s));
    }
  }
  return true;
}

std::string one_line(std::string_view text) {
  std::string r;
  bool ctl = false;
  for (char c : text) {
    if (static_cast<unsigned char>(c) < 32 || c == 127) {
      ctl = true;
      continue;
    }
    if (ctl && !r.empty()) r.push_back('/');
    ctl = false;
    r.push_back(c);
  }
  while (!r.empty() && r.back() == ' ') r.pop_back();
  return r;
}

}  // namespace qf::queue
