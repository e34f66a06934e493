// ISC license.
#include "deliver/dotqmail.h"

namespace qf::deliver {

bool safe_ext(std::string_view ext, std::string* out) {
  out->clear();
  out->reserve(ext.size());
  for (char c : ext) {
    if (c == '/') return false;
    if (c >= 'A' && c <= 'Z') c = char(c - 'A' + 'a');
    if (c == '.') c = ':';
    out->push_back(c);
  }
  return true;
}

std::vector<Candidate> candidates(std::string_view dash, std::string_view safeext) {
  std::vector<Candidate> r;
  std::string base = ".qmail";
  base += dash;
  // A file named for the whole extension that ends in "default" sets DEFAULT
  // to those seven characters, as in qmail.
  size_t whole_default = std::string_view::npos;
  if (safeext.size() >= 7 && safeext.substr(safeext.size() - 7) == "default")
    whole_default = safeext.size() - 7;
  r.push_back({base + std::string(safeext), whole_default});
  if (dash.empty()) return r;
  for (size_t i = safeext.size() + 1; i-- > 0;) {
    if (i != 0 && safeext[i - 1] != '-') continue;
    r.push_back({base + std::string(safeext.substr(0, i)) + "default", i});
  }
  return r;
}

bool parse_instructions(std::string_view text, std::vector<Action>* out, std::string* err) {
  out->clear();
  bool first = true;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    while (!line.empty() && (line.back() == ' ' || line.back() == '\t')) line.remove_suffix(1);
    bool was_first = first;
    first = false;
    if (line.empty()) {
      if (was_first) {
        *err = "Uh-oh: first line of .qmail file is blank. (#4.2.1)";
        return false;
      }
      continue;
    }
    switch (line.front()) {
      case '#':
        break;
      case '|':
        out->push_back({Action::program, std::string(line.substr(1))});
        break;
      case '.':
      case '/':
        out->push_back(
            {line.back() == '/' ? Action::maildir : Action::mbox, std::string(line)});
        break;
      case '+':
        if (line.substr(1) == "list") out->push_back({Action::list, std::string()});
        break;
      case '&':
        line.remove_prefix(1);
        [[fallthrough]];
      default:
        out->push_back({Action::forward, std::string(line)});
    }
  }
  return true;
}

std::string ext_after_dashes(std::string_view ext, unsigned n) {
  for (unsigned i = 0; i < n; i++) {
    size_t d = ext.find('-');
    if (d == std::string_view::npos) return std::string();
    ext.remove_prefix(d + 1);
  }
  return std::string(ext);
}

std::string host_without_parts(std::string_view host, unsigned n) {
  for (unsigned i = 0; i < n; i++) {
    size_t dot = host.rfind('.');
    if (dot == std::string_view::npos) break;
    host = host.substr(0, dot);
  }
  return std::string(host);
}

}  // namespace qf::deliver
