// ISC license.
// Bounces: the failure records kept in bounce/N while a message is delivered,
// and the one bounce message (qmail's format) sent when it is done.
#ifndef QF_SEND_BOUNCE_H
#define QF_SEND_BOUNCE_H

#include <sys/types.h>

#include <ctime>
#include <string>
#include <string_view>

#include "queue/layout.h"

namespace qf::send {

struct BounceConfig {
  std::string bouncefrom = "MAILER-DAEMON";
  std::string bouncehost;      ///< default me
  std::string doublebounceto;  ///< full address: doublebounceto@doublebouncehost
  /// Reads bouncefrom, bouncehost, doublebounceto, doublebouncehost (defaults
  /// MAILER-DAEMON, me, postmaster, me). False with errno on a read error.
  bool load();
};

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

}  // namespace qf::send

#endif
