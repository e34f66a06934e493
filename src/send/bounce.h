// ISC license.
// Bounces: the failure records kept in bounce/N while a message is delivered,
// and the one bounce message (qmail's format) sent when it is done.
#ifndef QF_SEND_BOUNCE_H
#define QF_SEND_BOUNCE_H

#include <sys/types.h>

#include <ctime>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "queue/layout.h"

namespace qf::send {

struct BounceConfig {
  std::string bouncefrom = "MAILER-DAEMON";
  std::string bouncehost;      ///< default me
  std::string doublebounceto;  ///< full address: doublebounceto@doublebouncehost
  bool dsn = false;            ///< bouncestyle "dsn": RFC 3464 reports; else qmail's QSBMF
  time_t lifetime = 5 * 86400;  ///< for the delay warning's text
  /// Reads bouncefrom, bouncehost, doublebounceto, doublebouncehost (defaults
  /// MAILER-DAEMON, me, postmaster, me) and bouncestyle ("qsbmf" or "dsn";
  /// anything else is an error). False with errno on a read error.
  bool load();
};

/// One record of bounce/N: the recipient and the failure text.
struct BounceEntry {
  std::string rcpt;
  std::string text;
};
/// Splits bounce/N's records (bounce_record's format). Damaged tails are dropped.
std::vector<BounceEntry> parse_bounce_records(std::string_view data);

/// The RFC 3463 status of a failure text: the first enhanced code in it
/// ("550 5.1.1", qmail's "(#5.1.1)"), else 4.4.7 when the message expired
/// with a temporary code, else fallback.
std::string dsn_status(std::string_view text, std::string_view fallback);
/// The Diagnostic-Code field's value: "smtp; 550 ..." for a remote reply,
/// else "x-qmail; " and the text on one line.
std::string dsn_diagnostic(std::string_view text);

/// A delivery-status notification (RFC 3464): the fields of one report.
struct DsnReport {
  std::string reporting_mta;
  time_t arrival = 0;
  std::string action;  ///< "failed" or "delayed"
  std::vector<BounceEntry> rcpts;
};
/// The message/delivery-status body: the per-message fields, then one block
/// per recipient (Final-Recipient, Action, Status, Diagnostic-Code).
std::string dsn_fields(DsnReport const& r);

/// The text qmail appends to bounce/N for one failed recipient:
/// "<rcpt>:\n" report (newline-terminated; blank lines inside become "/") "\n".
std::string bounce_record(std::string_view rcpt, std::string_view report);

/// Appends a record to bounce/N crash-safely: the whole new content goes to a
/// temporary file, is fsynced and renamed over bounce/N, and the directory is
/// fsynced. False with errno set.
bool bounce_append(queue::Layout const& q, uint64_t id, std::string_view record);

/// What to do with a finished message that has bounce/N.
enum class BounceKind {
  bounce,         ///< sender is an address: bounce to it
  double_bounce,  ///< sender is empty (a bounce bounced): to doublebounceto, from #@[]
  discard,        ///< sender is #@[] (a double bounce bounced): discard with a log line
};
BounceKind bounce_kind(std::string_view sender);

/// Composes the bounce and queues it through qmail-queue ($QMAILQUEUE if set, as
/// notqmail does, else the qmail-queue beside qmail-send). Returns qmail-queue's
/// exit code; *qp gets its pid. Runs in a child of qmail-send.
int bounce_inject(queue::Layout const& q, uint64_t id, std::string_view sender,
                  BounceConfig const& cfg, time_t now, pid_t* qp);

/// The delay warning (delay_warning_time): to sender, listing the deferred
/// recipients with their last texts and the message's headers, in
/// bouncestyle (QSBMF-like text, or a DSN with Action: delayed). Returns
/// qmail-queue's exit code. Runs in a child of qmail-send.
int warning_inject(queue::Layout const& q, uint64_t id, std::string_view sender,
                   std::vector<std::pair<std::string, std::string>> const& rcpts,
                   BounceConfig const& cfg, time_t now, pid_t* qp);

}  // namespace qf::send

#endif
