// ISC license.
// Recipient rewriting at pre-processing time (qmail-send's rules, qmail-control(5)):
//   no '@'           -> append @envnoathost
//   percenthack dom  -> user%host@dom becomes user@host, repeatedly
//   domain in locals -> local, unchanged
//   virtualdomains   -> the longest of: the whole address, the domain, each
//                       ".suffix" of the domain, "" (catch-all); a prefix makes it
//                       local as prefix-address, an empty prefix keeps it remote
//   otherwise        -> remote, unchanged
// Domains compare case-insensitively. Pure: no I/O but load().
#ifndef QF_ADDR_REWRITE_H
#define QF_ADDR_REWRITE_H

#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>

#include "addr/address.h"

namespace qf::addr {

struct Rewritten {
  bool local = false;
  std::string addr;
};

class Rewriter {
 public:
  /// Reads me, locals, virtualdomains, envnoathost, percenthack. False with
  /// errno set when a control file cannot be read (a missing one is fine).
  bool load();

  void set_envnoathost(std::string h) { envnoathost_ = std::move(h); }
  void add_local(std::string_view domain);
  /// One virtualdomains line "key:prefix".
  void add_virtual(std::string_view line);
  void add_percenthack(std::string_view domain);

  Rewritten rewrite(std::string_view addr) const;

  /// qmail's stripvdomprepend: prefix-box@vdomain back to box@vdomain, for
  /// the recipient lines of a bounce.
  std::string strip_virtual_prefix(std::string_view rcpt) const;

 private:
  std::unordered_set<std::string> locals_;
  std::unordered_map<std::string, std::string> vdoms_;
  std::unordered_set<std::string> percent_;
  std::string envnoathost_;
};

}  // namespace qf::addr

#endif
