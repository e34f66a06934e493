// ISC license.
// The sendmail(8) command line, mapped onto qmail-inject: sendmail runs the
// injector library in its own process (no second exec), with the options
// qmail's sendmail wrapper would have passed to qmail-inject. Pure.
#ifndef QF_INJECT_SENDMAIL_H
#define QF_INJECT_SENDMAIL_H

#include <optional>
#include <string>
#include <vector>

#include "inject/injector.h"

namespace qf::inject {

struct SendmailRequest {
  /// Empty to send a message; otherwise the mode is refused with this text.
  std::string refusal;
  bool from_headers = false;            ///< -t
  std::optional<std::string> sender;    ///< -f or -r
  std::optional<std::string> fullname;  ///< -F
  std::vector<std::string> recipients;
  /// -bp, or argv[0] "mailq": list the queue (qmail-qread runs instead).
  bool list_queue = false;
  /// -bv: report what would happen to each recipient, deliver nothing.
  bool verify = false;
  /// -q: flush the queue ("") or, with -qR, one destination (its domain).
  std::optional<std::string> flush;
  /// -qS: flush the mail of one sender (its address; "<>" for bounces).
  std::optional<std::string> flush_sender;
};

/// The usage line of sendmail(8).
extern char const* const kSendmailUsage;

/// Parses a sendmail command line; argv[0]'s base name "mailq" or
/// "newaliases" selects that mode. Options end at the first argument that is
/// not one, or at "--". False on an unknown option or a missing argument.
bool parse_sendmail(int argc, char const* const* argv, SendmailRequest* out);

/// Fills qmail-inject's options and changes the identity as qmail's sendmail
/// does: -t is -H (header and arguments), otherwise -a; -f also makes the
/// sender the default From (user and host, no name), then -F sets the name.
void sendmail_to_inject(SendmailRequest const& req, Options* opt, Identity* id);

}  // namespace qf::inject

#endif
