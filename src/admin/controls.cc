// ISC license.
#include "admin/controls.h"

namespace qf::admin {

namespace {

constexpr char kSend[] = "qmail-send";
constexpr char kMe[] = "qmail-send todo-proc qmail-smtpd qmail-remote qmail-inject";

// Per-transport knobs: default_X for both channels, local_X / remote_X win.
#define QF_TRANSPORT(x, d, dl)                                          \
  {"default_" x, Kind::line, d, kSend}, {"local_" x, Kind::line, dl, kSend}, \
      {"remote_" x, Kind::line, d, kSend}

constexpr ControlSpec kControls[] = {
    {"me", Kind::line, "(none)", kMe},
    {"locals", Kind::list, "me", "qmail-send todo-proc qmail-remote"},
    {"virtualdomains", Kind::list, "(none)", "qmail-send todo-proc"},
    {"percenthack", Kind::list, "(none)", "qmail-send todo-proc"},
    {"envnoathost", Kind::line, "me", "qmail-send todo-proc"},
    {"bouncefrom", Kind::line, "MAILER-DAEMON", kSend},
    {"bouncehost", Kind::line, "me", kSend},
    {"doublebouncehost", Kind::line, "me", kSend},
    {"doublebounceto", Kind::line, "postmaster", kSend},
    {"concurrencylocal", Kind::number, "10", kSend},
    {"concurrencyremote", Kind::number, "100", kSend},
    {"queuelifetime", Kind::number, "(none: maximal_queue_lifetime)", kSend},
    {"maximal_queue_lifetime", Kind::line, "5d", kSend},
    {"bounce_queue_lifetime", Kind::line, "5d", kSend},
    {"minimal_backoff_time", Kind::line, "300s", kSend},
    {"maximal_backoff_time", Kind::line, "4000s", kSend},
    {"queue_run_delay", Kind::line, "300s", kSend},
    {"qmgr_message_active_limit", Kind::number, "20000", kSend},
    {"qmgr_message_recipient_limit", Kind::number, "20000", kSend},
    {"qmgr_message_recipient_minimum", Kind::number, "10", kSend},
    {"initial_destination_concurrency", Kind::number, "5", kSend},
    {"destination_concurrency_feedback_debug", Kind::line, "no", kSend},
    {"destinationlimits", Kind::list, "(none)", kSend},
    QF_TRANSPORT("destination_concurrency_limit", "20", "0"),
    QF_TRANSPORT("destination_recipient_limit", "50", "1"),
    QF_TRANSPORT("destination_concurrency_positive_feedback", "1", "1"),
    QF_TRANSPORT("destination_concurrency_negative_feedback", "1", "1"),
    QF_TRANSPORT("destination_concurrency_failed_cohort_limit", "1", "1"),
    QF_TRANSPORT("recipient_limit", "20000", "20000"),
    QF_TRANSPORT("extra_recipient_limit", "1000", "1000"),
    QF_TRANSPORT("delivery_slot_cost", "5", "5"),
    QF_TRANSPORT("delivery_slot_loan", "3", "3"),
    QF_TRANSPORT("delivery_slot_discount", "50", "50"),
    QF_TRANSPORT("minimum_delivery_slots", "3", "3"),
    {"smtproutes", Kind::list, "(none: MX from DNS)", "qmail-send qmail-remote"},
    {"helohost", Kind::line, "me", "qmail-remote"},
    {"timeoutconnect", Kind::number, "60", "qmail-remote"},
    {"timeoutremote", Kind::number, "1200", "qmail-remote"},
    {"connectioncachetimelimit", Kind::number, "5", "qmail-remote"},
    {"connectionreusecountlimit", Kind::number, "100", "qmail-remote"},
    {"connectionreusetimelimit", Kind::number, "300", "qmail-remote"},
    {"timeoutlocal", Kind::number, "86400", "qmail-local"},
    {"smtpgreeting", Kind::line, "me", "qmail-smtpd"},
    {"localiphost", Kind::line, "me", "qmail-smtpd"},
    {"rcpthosts", Kind::list, "(none: every recipient refused)", "qmail-smtpd"},
    {"badmailfrom", Kind::list, "(none)", "qmail-smtpd"},
    {"databytes", Kind::number, "0 (no limit)", "qmail-smtpd"},
    {"timeoutsmtpd", Kind::number, "1200", "qmail-smtpd"},
    {"smtpd_per_request_deadline", Kind::number, "1", "qmail-smtpd"},
    {"smtpd_min_data_rate", Kind::number, "500", "qmail-smtpd"},
    {"smtpd_session_time_limit", Kind::number, "3600", "qmail-smtpd"},
    {"smtpd_client_connection_count_limit", Kind::number, "half of -c", "qmail-smtpd -L"},
    {"smtpd_client_event_limit_exceptions", Kind::list, "(none)", "qmail-smtpd -L"},
    {"defaulthost", Kind::line, "me", "qmail-inject sendmail"},
    {"defaultdomain", Kind::line, "me", "qmail-inject sendmail"},
    {"plusdomain", Kind::line, "me", "qmail-inject sendmail"},
    {"idhost", Kind::line, "me", "qmail-inject sendmail"},
    {"queuedworkers", Kind::number, "4", "qmail-queued"},
    {"msgqueuelen", Kind::number, "1024", "qscheduler"},
    {"msgqueuesize", Kind::number, "64", "qscheduler"},
    {"defaultdelivery", Kind::line, "(none)", "run scripts (qmail-start's argument)"},
};

#undef QF_TRANSPORT

}  // namespace

std::span<ControlSpec const> control_specs() { return kControls; }

ControlSpec const* find_control(std::string const& name) {
  for (auto const& c : kControls)
    if (name == c.name) return &c;
  return nullptr;
}

std::string show_control(ControlSpec const& c, bool exists, std::vector<std::string> const& lines) {
  std::string r = c.name;
  r += ": ";
  bool set = exists && (c.kind == Kind::list || (!lines.empty() && !lines[0].empty()));
  if (!set) {
    r += exists ? "default (empty file) " : "default ";
    r += c.def;
    r += "  (read by ";
  } else {
    r += "set ";
    if (c.kind == Kind::list) {
      r += std::to_string(lines.size());
      r += lines.size() == 1 ? " line" : " lines";
      for (auto const& l : lines) r += "\n\t" + l;
      r += "\n\t";
    } else {
      r += lines[0];
      r += "  ";
    }
    r += "(default ";
    r += c.def;
    r += "; read by ";
  }
  r += c.readers;
  r += ")\n";
  return r;
}

}  // namespace qf::admin
