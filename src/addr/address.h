// ISC license.
// Addresses, pure: the one place for lower-casing, the domain of an address,
// qmail's VERP rule and the destination a recipient's delivery goes to.
// Shared by qmail-send, todo-proc, the spawners and qmail-smtpd's policy.
#ifndef QF_ADDR_ADDRESS_H
#define QF_ADDR_ADDRESS_H

#include <string>
#include <string_view>

namespace qf::addr {

/// ASCII lower case (addresses and domains are compared this way).
std::string lower(std::string_view s);

/// The domain of an address, lower-cased ("" when there is no '@').
std::string domain_of(std::string_view addr);

/// A sender ending in "-@[]" asks for VERP (one recipient per delivery).
bool is_verp(std::string_view sender);

/// qmail's VERP rule, per recipient: a sender "pre@host-@[]" becomes
/// "pre" + rcptlocal + "=" + rcpthost + "@" + host. Any other sender, or a
/// recipient without '@', is returned unchanged.
std::string verp_sender(std::string_view sender, std::string_view rcpt);

/// The destination of a local delivery: the local part up to its first '-'
/// (qmail's extension delimiter) and the domain, lower-cased: "Joe-list@X"
/// and "joe@x" are one mailbox owner, as Postfix's localpart@nexthop.
std::string local_destination(std::string_view rcpt);

}  // namespace qf::addr

#endif
