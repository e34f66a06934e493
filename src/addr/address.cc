// ISC license.
#include "addr/address.h"

namespace qf::addr {

std::string lower(std::string_view s) {
  std::string r(s);
  for (char& c : r)
    if (c >= 'A' && c <= 'Z') c = char(c + 32);
  return r;
}

std::string domain_of(std::string_view addr) {
  size_t at = addr.rfind('@');
  return at == std::string_view::npos ? std::string() : lower(addr.substr(at + 1));
}

bool is_verp(std::string_view sender) { return sender.ends_with("-@[]"); }

std::string verp_sender(std::string_view sender, std::string_view rcpt) {
  if (!is_verp(sender)) return std::string(sender);
  std::string_view head = sender.substr(0, sender.size() - 4);  // "pre@host"
  size_t at = head.rfind('@');
  size_t rat = rcpt.rfind('@');
  if (at == std::string_view::npos || rat == std::string_view::npos) return std::string(sender);
  std::string r(head.substr(0, at));
  r += rcpt.substr(0, rat);
  r += '=';
  r += rcpt.substr(rat + 1);
  r += '@';
  r += head.substr(at + 1);
  return r;
}

std::string local_destination(std::string_view rcpt) {
  size_t at = rcpt.rfind('@');
  std::string_view local = rcpt.substr(0, at == std::string_view::npos ? rcpt.size() : at);
  size_t dash = local.find('-');
  if (dash != std::string_view::npos && dash > 0) local = local.substr(0, dash);
  std::string d = lower(local);
  d += '@';
  if (at != std::string_view::npos) d += lower(rcpt.substr(at + 1));
  return d;
}

}  // namespace qf::addr
