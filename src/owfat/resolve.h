// ISC license.
// DNS through libowfat's djbdns client. This header is plain C++: the libowfat
// headers stay inside src/owfat/*.cc, whose objects are linked against a
// private copy of libowfat with every symbol it shares with skalibs renamed
// (see src/owfat/README and the Makefile).
#ifndef QF_OWFAT_RESOLVE_H
#define QF_OWFAT_RESOLVE_H

#include <string>
#include <string_view>
#include <vector>

namespace qf::dns {

enum class Result {
  ok,    ///< answer received (possibly empty: the name has no such records)
  temp,  ///< temporary failure: timeout, SERVFAIL, no resolver
  perm,  ///< permanent failure: the name is malformed
};

struct Mx {
  unsigned pref;
  std::string host;
};

/// IPv4 addresses of name, as dotted quads. A literal address is parsed, not
/// looked up, so this needs no network for "10.1.2.3".
Result ip4(std::string const& name, std::vector<std::string>* out);
/// IPv6 addresses of name, in text form.
Result ip6(std::string const& name, std::vector<std::string>* out);
/// MX records of name, in answer order (the caller sorts by preference).
Result mx(std::string const& name, std::vector<Mx>* out);

/// The answer parsers behind mx, ip4 and ip6, for a raw DNS response packet
/// (exposed so that unit tests can feed them packets). perm: unparsable.
Result mx_packet(std::string_view packet, std::vector<Mx>* out);
Result ip4_packet(std::string_view packet, std::vector<std::string>* out);
Result ip6_packet(std::string_view packet, std::vector<std::string>* out);

}  // namespace qf::dns

#endif
