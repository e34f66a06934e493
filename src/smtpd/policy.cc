// ISC license.
#include "smtpd/policy.h"

#include "sys/fs.h"
#include "sys/timefmt.h"

namespace qf::smtpd {

namespace {

bool iequal_prefix(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); i++) {
    char a = s[i], b = prefix[i];
    if (a >= 'A' && a <= 'Z') a = char(a - 'A' + 'a');
    if (b >= 'A' && b <= 'Z') b = char(b - 'A' + 'a');
    if (a != b) return false;
  }
  return true;
}

std::string_view skip_spaces(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  return s;
}

}  // namespace

PathError parse_path(std::string_view arg, std::string_view keyword, Path* out) {
  if (!iequal_prefix(arg, keyword)) return PathError::syntax;
  std::string_view s = skip_spaces(arg.substr(keyword.size()));
  bool bracketed = !s.empty() && s.front() == '<';
  if (bracketed) s.remove_prefix(1);
  char const terminator = bracketed ? '>' : ' ';
  // An RFC 821 source route "@a,@b:" says nothing we need: drop it.
  if (!s.empty() && s.front() == '@') {
    size_t colon = s.find(':');
    if (colon == std::string_view::npos) return PathError::syntax;
    s.remove_prefix(colon + 1);
  }
  std::string addr;
  bool escaped = false, quoted = false, terminated = false;
  size_t i = 0;
  for (; i < s.size(); i++) {
    char c = s[i];
    if (escaped) {
      addr.push_back(c);
      escaped = false;
    } else if (c == '\\') {
      escaped = true;
    } else if (c == '"') {
      quoted = !quoted;
    } else if (c == terminator && !quoted) {
      terminated = true;
      break;
    } else {
      addr.push_back(c);
    }
    if (addr.size() > max_address) return PathError::too_long;
  }
  if (bracketed && !terminated) return PathError::syntax;
  for (unsigned char c : addr)
    if (c < 0x20 || c == 0x7f) return PathError::bad_byte;
  out->address = std::move(addr);
  out->params = skip_spaces(terminated ? s.substr(i + 1) : std::string_view());
  return PathError::none;
}

bool mail_size_param(std::string_view params, uint64_t* size) {
  *size = 0;
  while (!(params = skip_spaces(params)).empty()) {
    size_t sp = params.find(' ');
    std::string_view tok = params.substr(0, sp);
    params = sp == std::string_view::npos ? std::string_view() : params.substr(sp);
    if (iequal_prefix(tok, "size=") && !scan_u64(tok.substr(5), size)) return false;
  }
  return true;
}

HostList::HostList(bool present, std::vector<std::string> const& lines) : present_(present) {
  for (auto const& l : lines) set_.insert(lower(l));
}

bool rcpt_allowed(HostList const& rcpthosts, std::string_view addr) {
  size_t at = addr.rfind('@');
  if (at == std::string_view::npos) return true;
  if (!rcpthosts.present()) return false;
  std::string domain = lower(addr.substr(at + 1));
  std::string_view d(domain);
  for (size_t i = 0; i < d.size(); i++)
    if ((i == 0 || d[i] == '.') && rcpthosts.contains(d.substr(i))) return true;
  return false;
}

bool sender_refused(HostList const& badmailfrom, std::string_view addr) {
  if (badmailfrom.contains(addr)) return true;
  size_t at = addr.rfind('@');
  return at != std::string_view::npos && badmailfrom.contains(addr.substr(at));
}

std::string received_safe(std::string_view s) {
  std::string r(s);
  for (char& c : r) {
    bool safe = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    for (char ok : std::string_view(".@%+/=:-[]"))
      if (c == ok) safe = true;
    if (!safe) c = '?';
  }
  return r;
}

std::string received_line(Peer const& peer, std::string_view helo, time_t now) {
  std::string r = "Received: from ";
  r += received_safe(peer.remote_host);
  if (lower(helo) != lower(peer.remote_host)) {
    r += " (HELO ";
    r += received_safe(helo);
    r += ')';
  }
  r += " (";
  if (!peer.remote_info.empty()) {
    r += received_safe(peer.remote_info);
    r += '@';
  }
  r += received_safe(peer.remote_ip);
  r += ")\n  by ";
  r += received_safe(peer.local_host);
  r += " with SMTP; ";
  r += date822(now);
  r += '\n';
  return r;
}

}  // namespace qf::smtpd
