// ISC license.
#include "send/settings.h"

#include "addr/address.h"

#include <errno.h>

#include "conf/control.h"
#include "sys/fs.h"

namespace qf::send {

bool parse_duration(std::string_view s, char unit, time_t* out) {
  s = conf::trim(s);
  if (s.empty()) return false;
  char u = unit;
  if (s.back() < '0' || s.back() > '9') {
    u = s.back();
    s.remove_suffix(1);
  }
  uint64_t n;
  if (!scan_u64(s, &n)) return false;
  uint64_t mul;
  switch (u) {
    case 's': mul = 1; break;
    case 'm': mul = 60; break;
    case 'h': mul = 3600; break;
    case 'd': mul = 86400; break;
    case 'w': mul = 604800; break;
    default: return false;
  }
  if (n > uint64_t(100) * 365 * 86400 / mul) return false;
  *out = time_t(n * mul);
  return true;
}

bool parse_dest_override(std::string_view line, DestOverride* out) {
  size_t c1 = line.find(':');
  if (c1 == std::string_view::npos) return false;
  DestOverride o;
  for (char ch : line.substr(0, c1)) o.pattern.push_back(ch >= 'A' && ch <= 'Z' ? char(ch + 32) : ch);
  std::string_view rest = line.substr(c1 + 1);
  size_t c2 = rest.find(':');
  uint64_t n = 0;
  std::string_view conc = rest.substr(0, c2);
  if (!conc.empty() && (!scan_u64(conf::trim(conc), &n) || n > 65535)) return false;
  o.concurrency_limit = unsigned(n);
  if (c2 != std::string_view::npos) {
    n = 0;
    std::string_view r = conf::trim(rest.substr(c2 + 1));
    if (!r.empty() && (!scan_u64(r, &n) || n > 10000)) return false;
    o.recipient_limit = unsigned(n);
  }
  *out = std::move(o);
  return true;
}

namespace {

struct Reader {
  std::string* bad;
  bool ok = true;
  bool fail(std::string_view name) {
    if (ok) *bad = std::string(name);
    ok = false;
    return false;
  }
  // A decimal number from control/name, def when missing.
  bool num(std::string const& name, uint64_t* v, uint64_t def, uint64_t lo, uint64_t hi) {
    if (!conf::control_uint(name, v, def)) return fail(name);
    if (*v < lo || *v > hi) return fail(name);
    return true;
  }
  bool dur(std::string const& name, time_t* v, char unit) {
    std::string s;
    if (!conf::control_line(name, &s, "")) return fail(name);
    if (s.empty()) return true;
    if (!parse_duration(s, unit, v)) return fail(name);
    return true;
  }
  bool fb(std::string const& name, Feedback* f) {
    std::string s;
    if (!conf::control_line(name, &s, "")) return fail(name);
    if (s.empty()) return true;
    if (!Feedback::parse(s, f)) return fail(name);
    return true;
  }
  bool yes(std::string const& name, bool* v) {
    std::string s;
    if (!conf::control_line(name, &s, "")) return fail(name);
    if (s.empty()) return true;
    if (s == "yes" || s == "1" || s == "true") *v = true;
    else if (s == "no" || s == "0" || s == "false") *v = false;
    else return fail(name);
    return true;
  }
  bool real(std::string const& name, double* v) {
    std::string s;
    if (!conf::control_line(name, &s, "")) return fail(name);
    if (s.empty()) return true;
    char* end;
    double d = strtod(s.c_str(), &end);
    if (*end || d < 0) return fail(name);
    *v = d;
    return true;
  }
  // default_X then local_X / remote_X.
  template <class T, class F>
  void both(std::string const& suffix, T TransportSettings::*m, Settings* s, F read) {
    T def = s->t[kRemote].*m;
    read("default_" + suffix, &def);
    for (int c = 0; c < kChannels; c++) {
      T v = c == kRemote || !(s->t[kLocal].*m != s->t[kRemote].*m) ? def : s->t[c].*m;
      read(std::string(channel_name(Channel(c))) + "_" + suffix, &v);
      s->t[c].*m = v;
    }
  }
};

}  // namespace

bool load_settings(Settings* out, std::string* bad) {
  Settings s = Settings::defaults();
  Reader r{bad};
  uint64_t v;
  if (r.num("concurrencylocal", &v, s.t[kLocal].concurrency, 0, 65535)) s.t[kLocal].concurrency = unsigned(v);
  if (r.num("concurrencyremote", &v, s.t[kRemote].concurrency, 0, 65535)) s.t[kRemote].concurrency = unsigned(v);
  // qmail's queuelifetime (seconds) holds unless Postfix's name is there too.
  if (conf::control_exists("queuelifetime") && r.num("queuelifetime", &v, 604800, 0, 100ull * 365 * 86400))
    s.maximal_queue_lifetime = s.bounce_queue_lifetime = time_t(v);
  r.dur("maximal_queue_lifetime", &s.maximal_queue_lifetime, 'd');
  s.bounce_queue_lifetime = std::min(s.bounce_queue_lifetime, s.maximal_queue_lifetime);
  r.dur("bounce_queue_lifetime", &s.bounce_queue_lifetime, 'd');
  r.dur("minimal_backoff_time", &s.minimal_backoff, 's');
  r.dur("maximal_backoff_time", &s.maximal_backoff, 's');
  r.dur("queue_run_delay", &s.queue_run_delay, 's');
  if (r.num("qmgr_message_active_limit", &v, s.message_active_limit, 1, 10000000)) s.message_active_limit = v;
  if (r.num("qmgr_message_recipient_limit", &v, s.message_recipient_limit, 1, 100000000)) s.message_recipient_limit = v;
  if (r.num("qmgr_message_recipient_minimum", &v, s.message_recipient_minimum, 1, 100000)) s.message_recipient_minimum = v;
  uint64_t init = s.t[kRemote].initial_concurrency;
  if (r.num("initial_destination_concurrency", &init, init, 1, 65535))
    for (auto& t : s.t) t.initial_concurrency = unsigned(init);
  r.yes("destination_concurrency_feedback_debug", &s.feedback_debug);
  auto u = [&](unsigned lo, unsigned hi) {
    return [&r, lo, hi](std::string const& name, unsigned* x) {
      uint64_t n;
      if (r.num(name, &n, *x, lo, hi)) *x = unsigned(n);
    };
  };
  auto z = [&](std::string const& name, size_t* x) {
    uint64_t n;
    if (r.num(name, &n, *x, 0, 100000000)) *x = size_t(n);
  };
  r.both("destination_concurrency_limit", &TransportSettings::dest_concurrency_limit, &s, u(0, 65535));
  r.both("destination_recipient_limit", &TransportSettings::dest_recipient_limit, &s, u(1, 10000));
  r.both("recipient_limit", &TransportSettings::recipient_limit, &s, z);
  r.both("extra_recipient_limit", &TransportSettings::extra_recipient_limit, &s, z);
  r.both("delivery_slot_cost", &TransportSettings::slot_cost, &s, u(0, 1000));
  r.both("delivery_slot_loan", &TransportSettings::slot_loan, &s, u(0, 1000));
  r.both("delivery_slot_discount", &TransportSettings::slot_discount, &s, u(0, 100));
  r.both("minimum_delivery_slots", &TransportSettings::minimum_slots, &s, u(0, 1000));
  r.both("destination_concurrency_positive_feedback", &TransportSettings::positive, &s,
         [&r](std::string const& n, Feedback* f) { r.fb(n, f); });
  r.both("destination_concurrency_negative_feedback", &TransportSettings::negative, &s,
         [&r](std::string const& n, Feedback* f) { r.fb(n, f); });
  r.both("destination_concurrency_failed_cohort_limit", &TransportSettings::failed_cohort_limit, &s,
         [&r](std::string const& n, double* x) { r.real(n, x); });
  r.dur("delay_warning_time", &s.delay_warning_time, 'h');
  if (r.num("poisonlimit", &v, s.poison_limit, 0, 1000000)) s.poison_limit = unsigned(v);
  std::vector<std::string> lines;
  if (!conf::control_list("paused", &lines)) r.fail("paused");
  else
    for (auto& l : lines) s.paused.push_back(addr::lower(l));
  if (!conf::control_list("smtproutes", &lines)) r.fail("smtproutes");
  else s.routes.parse(lines);
  if (!conf::control_list("destinationlimits", &lines)) {
    r.fail("destinationlimits");
  } else {
    for (auto const& l : lines) {
      DestOverride o;
      if (!parse_dest_override(l, &o)) {
        r.fail("destinationlimits");
        break;
      }
      s.overrides.push_back(std::move(o));
    }
  }
  if (!r.ok) {
    if (!errno) errno = EINVAL;
    return false;
  }
  *out = std::move(s);
  return true;
}

}  // namespace qf::send
