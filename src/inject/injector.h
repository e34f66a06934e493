// ISC license.
// qmail-inject(8) as a library: read a message, fix its header the way
// qmail-header(5) says, work out the envelope, and hand both to qmail-queue
// (or print the message). qmail-inject and sendmail are thin front ends.
//
// The header is held in memory (the fields qmail-inject adds go first, so it
// must be complete before anything is written), within kMaxField bytes per
// field and kMaxHeader bytes in all; the body is streamed.
#ifndef QF_INJECT_INJECTOR_H
#define QF_INJECT_INJECTOR_H

#include <sys/types.h>

#include <array>
#include <cstddef>
#include <ctime>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "inject/hfield.h"
#include "inject/qualify.h"

namespace qf::inject {

inline constexpr size_t kMaxField = 1 << 20;   ///< one header field, folded lines included
inline constexpr size_t kMaxHeader = 4 << 20;  ///< all header fields together

/// An exit code (0, 100 or 111) and, when it is not 0, what went wrong (the
/// text after "PROG: fatal: ").
struct Result {
  int code = 0;
  std::string error;
  bool ok() const { return code == 0; }
};

/// Where the recipients come from (qmail-inject -A -a -h -H).
enum class Recipients {
  args_else_header,  ///< -A: the arguments, or the header when there are none
  args,              ///< -a: the arguments only
  header,            ///< -h: the header only
  both,              ///< -H: the header and the arguments
};

/// What the command line asks for.
struct Options {
  Recipients mode = Recipients::args_else_header;
  bool queue = true;                  ///< -N; false is -n: print the message instead
  std::optional<std::string> sender;  ///< -f: the envelope sender ("" or "<>" for none)
  std::vector<std::string> recipients;
};

/// Who sends, as the environment says (qmail-inject(8) ENVIRONMENT VARIABLES).
struct Identity {
  std::string user;                  ///< QMAILUSER MAILUSER USER LOGNAME, else the account name
  std::optional<std::string> host;   ///< QMAILHOST MAILHOST
  std::optional<std::string> name;   ///< QMAILNAME MAILNAME NAME
  std::optional<std::string> suser;  ///< QMAILSUSER (default: user)
  std::optional<std::string> shost;  ///< QMAILSHOST (default: host)
  bool name_comment = false;         ///< QMAILINJECT c: From as "addr (name)"
  bool ignore_return_path = false;   ///< s: drop Return-Path without using it
  bool delete_from = false;          ///< f: drop From (and write our own)
  bool delete_message_id = false;    ///< i: drop Message-ID (and write our own)
  bool verp_recipient = false;       ///< r: per-recipient VERP (sender ends in "-@[]")
  bool verp_message = false;         ///< m: per-message VERP (time and pid in the sender)
  std::optional<std::string> mft_file;  ///< QMAILMFTFILE
  /// QMAILDEFAULTHOST QMAILDEFAULTDOMAIN QMAILPLUSDOMAIN QMAILIDHOST
  std::optional<std::string> defaulthost, defaultdomain, plusdomain, idhost;
  time_t now = 0;  ///< for Date, Message-ID and the m flag
  pid_t pid = 0;
};

/// Reads the environment (and the password entry of the real uid when no
/// user variable is set; "anonymous" if even that fails).
Identity identity_from_env();

/// The control files qmail-inject reads, with the environment's overrides.
struct Config {
  std::string defaulthost, defaultdomain, plusdomain, idhost;
  std::vector<std::string> mailing_lists;  ///< the lines of QMAILMFTFILE
  Qualifier qualify;
};

/// Reads defaulthost, defaultdomain, plusdomain and idhost (default: me, else
/// the literal name) and QMAILMFTFILE. 111 if a file cannot be read or a name
/// is not a host name.
Result load_config(Identity const& id, Config* out);

/// Builds a config from given names (tests, and load_config's second half).
Result make_config(Identity const& id, std::string_view defaulthost, std::string_view defaultdomain,
                   std::string_view plusdomain, std::string_view idhost, Config* out);

/// The header half of qmail-inject, without I/O: fed the command line and
/// then the header fields one by one, it produces the header to write and the
/// envelope.
class HeaderRewriter {
 public:
  HeaderRewriter(Options const& opt, Identity const& id, Config const& cfg)
      : opt_(opt), id_(id), cfg_(cfg) {}

  /// Parses -f and the recipient arguments. 100 on an address that does not parse.
  Result start();

  /// One whole field with its folded lines and final newline. 100 when a
  /// sender field does not parse or the header grows past kMaxHeader.
  Result field(std::string_view f);

  /// After the last field: *out gets the header to write (a Return-Path
  /// first when printing, then the fields qmail-inject adds, then the kept
  /// ones), and the envelope is settled. 100 when queueing and there is no
  /// recipient, or a recipient field needed for the envelope does not parse.
  Result finish(std::string* out);

  std::string const& sender() const { return sender_; }
  std::vector<std::string> const& recipients() const { return recipients_; }

 private:
  void note(Field k) { seen_[size_t(k)] = true; }
  bool seen(Field k) const { return seen_[size_t(k)]; }
  Result default_from(std::string* out) const;
  Result default_sender();
  std::string verp(std::string s) const;

  Options const& opt_;
  Identity const& id_;
  Config const& cfg_;
  std::array<bool, size_t(Field::count_)> seen_{};
  std::vector<std::string> kept_;
  size_t kept_bytes_ = 0;
  std::vector<std::string> args_, header_rcpts_, resent_rcpts_, to_cc_;
  std::string bad_header_rcpts_, bad_resent_rcpts_;  // the first field that did not parse
  bool have_sender_ = false;
  std::string sender_;
  std::vector<std::string> recipients_;
};

/// The whole of qmail-inject: reads the message from fd in, and queues it
/// (QMAILQUEUE or qmail-queue) or, with -n, writes it to fd out. On failure
/// nothing has been committed to a queue. SIGPIPE must be ignored.
Result inject(Options const& opt, Identity const& id, Config const& cfg, int in, int out);

}  // namespace qf::inject

#endif
