// ISC license.
// Completing addresses (qmail-header(5), qmail-inject(8) "CONTROL FILES"):
// a lone box gets @defaulthost, a host without dots gets .defaultdomain, a
// host ending in '+' gets .plusdomain instead; source routes, a trailing dot
// and a trailing '@' are removed. Pure.
#ifndef QF_INJECT_QUALIFY_H
#define QF_INJECT_QUALIFY_H

#include <string>
#include <string_view>

#include "inject/token822.h"

namespace qf::inject {

class Qualifier {
 public:
  /// Takes the three names (controls or their environment overrides). False,
  /// with the name of the offending one in *bad, if one is not a host name
  /// (atoms, dots and [literals] only).
  bool init(std::string_view defaulthost, std::string_view defaultdomain,
            std::string_view plusdomain, std::string* bad);

  /// Rewrites one address (the tokens between '<' and '>', or a bare address)
  /// in place. "<>" and "<box@[]>" are left alone. Comments inside the
  /// address move to its end; blanks between its tokens are dropped.
  void operator()(Tokens* addr) const;

 private:
  Tokens host_;    // "@" defaulthost
  Tokens domain_;  // "." defaultdomain
  Tokens plus_;    // "." plusdomain
};

/// Tokens of a whole host name (atoms and literals joined by dots, none that
/// needs a backslash to be written); false otherwise.
bool host_tokens(std::string_view host, Tokens* out);

/// Reads an address given as an argument (a recipient, -f): box@host split at
/// the last '@', the box taken literally (quoted when it needs to be), the
/// host as host_tokens. "<addr>" is taken as addr. False if the host part is
/// not a host name, the box is empty, or there is a CR, LF or NUL.
bool arg_address(std::string_view arg, Tokens* out);

}  // namespace qf::inject

#endif
