// ISC license.
// The only file that includes libowfat's DNS headers. It must not include any
// skalibs header: both define buffer, stralloc and more with other layouts.
#include "owfat/resolve.h"

#include <errno.h>
#include <stddef.h>

#include <dns.h>
#include <ip4.h>
#include <ip6.h>
#include <stralloc.h>

namespace qf::dns {

namespace {

// Owns a libowfat stralloc.
struct Sa {
  stralloc s = {nullptr, 0, 0};
  ~Sa() { stralloc_free(&s); }
};

bool set(Sa& sa, std::string const& name) {
  return stralloc_copyb(&sa.s, name.data(), name.size()) != 0;
}

Result fail() { return Result::temp; }

}  // namespace

Result ip4(std::string const& name, std::vector<std::string>* out) {
  out->clear();
  Sa fqdn, answer;
  if (!set(fqdn, name)) return Result::temp;
  if (dns_ip4(&answer.s, &fqdn.s) < 0) return fail();
  for (size_t i = 0; i + 4 <= answer.s.len; i += 4) {
    char buf[IP4_FMT];
    size_t n = fmt_ip4(buf, answer.s.s + i);
    out->emplace_back(buf, n);
  }
  return Result::ok;
}

Result ip6(std::string const& name, std::vector<std::string>* out) {
  out->clear();
  Sa fqdn, answer;
  if (!set(fqdn, name)) return Result::temp;
  if (dns_ip6(&answer.s, &fqdn.s) < 0) return fail();
  for (size_t i = 0; i + 16 <= answer.s.len; i += 16) {
    char buf[IP6_FMT];
    size_t n = fmt_ip6(buf, answer.s.s + i);
    out->emplace_back(buf, n);
  }
  return Result::ok;
}

namespace {

void split_mx(Sa const& answer, std::vector<Mx>* out) {
  size_t i = 0;
  while (i + 2 < answer.s.len) {
    unsigned pref = (unsigned char)answer.s.s[i] << 8 | (unsigned char)answer.s.s[i + 1];
    i += 2;
    size_t start = i;
    while (i < answer.s.len && answer.s.s[i]) i++;
    out->push_back({pref, std::string(answer.s.s + start, i - start)});
    i++;
  }
}

void split_addrs(Sa const& answer, size_t width, std::vector<std::string>* out) {
  for (size_t i = 0; i + width <= answer.s.len; i += width) {
    char buf[IP6_FMT];
    size_t n = width == 4 ? fmt_ip4(buf, answer.s.s + i) : fmt_ip6(buf, answer.s.s + i);
    out->emplace_back(buf, n);
  }
}

}  // namespace

Result mx(std::string const& name, std::vector<Mx>* out) {
  out->clear();
  Sa fqdn, answer;
  if (!set(fqdn, name)) return Result::temp;
  if (dns_mx(&answer.s, &fqdn.s) < 0) return fail();
  split_mx(answer, out);
  return Result::ok;
}

Result mx_packet(std::string_view packet, std::vector<Mx>* out) {
  out->clear();
  Sa answer;
  if (dns_mx_packet(&answer.s, packet.data(), unsigned(packet.size())) < 0) return Result::perm;
  split_mx(answer, out);
  return Result::ok;
}

Result ip4_packet(std::string_view packet, std::vector<std::string>* out) {
  out->clear();
  Sa answer;
  if (dns_ip4_packet(&answer.s, packet.data(), unsigned(packet.size())) < 0) return Result::perm;
  split_addrs(answer, 4, out);
  return Result::ok;
}

Result ip6_packet(std::string_view packet, std::vector<std::string>* out) {
  out->clear();
  Sa answer;
  if (dns_ip6_packet(&answer.s, packet.data(), unsigned(packet.size())) < 0) return Result::perm;
  split_addrs(answer, 16, out);
  return Result::ok;
}

}  // namespace qf::dns
