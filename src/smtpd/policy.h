// ISC license.
// The rules qmail-smtpd applies to what a client says, pure: parsing the
// MAIL and RCPT arguments, rcpthosts, badmailfrom, and the Received line.
#ifndef QF_SMTPD_POLICY_H
#define QF_SMTPD_POLICY_H

#include <cstdint>
#include <ctime>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "addr/address.h"

namespace qf::smtpd {

/// Longest envelope address accepted (qmail-smtpd's 900; qmail-queue takes 1003).
inline constexpr size_t max_address = 900;

/// Why an argument was refused.
enum class PathError { none, syntax, too_long, bad_byte };

/// The argument of MAIL or RCPT after the verb: "FROM:<a@b> SIZE=10".
struct Path {
  std::string address;      ///< quotes and escapes removed, source route dropped
  std::string_view params;  ///< what follows the closing '>' (ESMTP parameters)
};

/// Parses "FROM:" (or "TO:", given as keyword) followed by <address> or, as
/// qmail tolerates, a bare address ended by a space. Refuses a missing
/// keyword or '>', an address longer than max_address, and any control byte
/// (0x00-0x1f, 0x7f: NUL would split the envelope, CR/LF the SMTP stream).
PathError parse_path(std::string_view arg, std::string_view keyword, Path* out);

/// The SIZE= value among MAIL's ESMTP parameters. Returns false on a SIZE
/// parameter that is not a number; *size stays 0 when there is none.
bool mail_size_param(std::string_view params, uint64_t* size);

/// Lower-case copy (ASCII only, as qmail's case_lowerb).
using addr::lower;

/// A list of host names from a control file: rcpthosts or badmailfrom. Stored
/// lower-case; lookups ignore case, as qmail's constmap does.
class HostList {
 public:
  HostList() = default;
  /// present: whether the control file exists at all.
  HostList(bool present, std::vector<std::string> const& lines);
  bool present() const { return present_; }
  bool contains(std::string_view s) const { return set_.count(lower(s)) > 0; }

 private:
  bool present_ = false;
  std::unordered_set<std::string> set_;
};

/// rcpthosts: may mail for addr be accepted from a client that is not a relay
/// client? True for an address without '@' (qmail-send qualifies it locally);
/// otherwise its domain must be listed, or a suffix ".x.y" of it. Without an
/// rcpthosts file nothing with a domain is accepted (no open relay).
bool rcpt_allowed(HostList const& rcpthosts, std::string_view addr);

/// badmailfrom: addr listed whole, or "@domain" for its domain.
bool sender_refused(HostList const& badmailfrom, std::string_view addr);

/// qmail's Received-line alphabet: letters, digits and ".@%+/=:-[]"; every
/// other byte becomes '?', so nothing a client says can break the header.
std::string received_safe(std::string_view s);

/// Where a connection comes from, as tcpserver describes it (tcp-environ(5)).
struct Peer {
  std::string remote_ip = "unknown";    ///< TCPREMOTEIP
  std::string remote_host = "unknown";  ///< TCPREMOTEHOST
  std::string remote_info;              ///< TCPREMOTEINFO (empty: unset)
  std::string local_host = "unknown";   ///< TCPLOCALHOST, else TCPLOCALIP
  std::string local_ip;                 ///< TCPLOCALIP (empty: unset)
};

/// The line qmail-smtpd puts at the top of each message (two lines, LF ends):
///   Received: from HOST (HELO helo) (info@IP)
///     by LOCAL with SMTP; 26 Sep 1995 04:46:54 -0000
/// "(HELO helo)" only when helo differs from HOST ignoring case.
std::string received_line(Peer const& peer, std::string_view helo, time_t now);

}  // namespace qf::smtpd

#endif
