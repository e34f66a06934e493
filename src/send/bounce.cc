// ISC license.
#include "send/bounce.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>

#include "conf/control.h"
#include "queue/client.h"
#include "sys/exitcodes.h"
#include "sys/fd.h"
#include "sys/fs.h"
#include "sys/timefmt.h"

namespace qf::send {

bool BounceConfig::load() {
  std::string me, dbhost, dbto;
  if (!conf::control_line("me", &me, "")) return false;
  if (!conf::control_line("bouncefrom", &bouncefrom, "MAILER-DAEMON")) return false;
  if (!conf::control_line("bouncehost", &bouncehost, me)) return false;
  if (!conf::control_line("doublebouncehost", &dbhost, me)) return false;
  if (!conf::control_line("doublebounceto", &dbto, "postmaster")) return false;
  doublebounceto = dbto + "@" + dbhost;
  std::string style;
  if (!conf::control_line("bouncestyle", &style, "qsbmf")) return false;
  if (style == "dsn") dsn = true;
  else if (style == "qsbmf" || style.empty()) dsn = false;
  else {
    errno = EINVAL;
    return false;
  }
  return true;
}

std::vector<BounceEntry> parse_bounce_records(std::string_view data) {
  std::vector<BounceEntry> out;
  size_t pos = 0;
  while (pos < data.size()) {
    size_t end = data.find("\n\n", pos);
    if (end == std::string_view::npos) break;
    std::string_view rec = data.substr(pos, end + 1 - pos);
    pos = end + 2;
    size_t nl = rec.find('\n');
    std::string_view head = rec.substr(0, nl);
    if (head.size() < 3 || head[0] != '<' || head.substr(head.size() - 2) != ">:") continue;
    out.push_back({std::string(head.substr(1, head.size() - 3)), std::string(rec.substr(nl + 1))});
  }
  return out;
}

std::string dsn_status(std::string_view t, std::string_view fallback) {
  for (size_t i = 0; i + 5 <= t.size(); i++) {
    char c = t[i];
    if ((c != '2' && c != '4' && c != '5') || t[i + 1] != '.') continue;
    if (i > 0 && (isdigit((unsigned char)t[i - 1]) || t[i - 1] == '.')) continue;
    size_t j = i + 2, a = j;
    while (j < t.size() && isdigit((unsigned char)t[j]) && j - a < 3) j++;
    if (j == a || j >= t.size() || t[j] != '.') continue;
    size_t b = ++j;
    while (j < t.size() && isdigit((unsigned char)t[j]) && j - b < 3) j++;
    if (j == b || (j < t.size() && (isdigit((unsigned char)t[j]) || t[j] == '.'))) continue;
    std::string code(t.substr(i, j - i));
    if (code[0] == '4' && fallback[0] == '5') {
      // A temporary failure that ran out of time.
      return "4.4.7";
    }
    return code;
  }
  if (fallback[0] == '5' && t.find("too long") != std::string_view::npos) return "4.4.7";
  return std::string(fallback);
}

std::string dsn_diagnostic(std::string_view t) {
  std::string one;
  static constexpr std::string_view kSaid = "Remote host said: ";
  size_t said = t.find(kSaid);
  std::string_view body = t;
  std::string kind = "x-qmail; ";
  if (said != std::string_view::npos && said + kSaid.size() + 3 <= t.size() &&
      isdigit((unsigned char)t[said + kSaid.size()])) {
    body = t.substr(said + kSaid.size());
    kind = "smtp; ";
  }
  for (char c : body) {
    if (c == '\n' || c == '/' ) c = ' ';
    if ((unsigned char)c < 32 || (unsigned char)c > 126) c = '?';
    if (c == ' ' && !one.empty() && one.back() == ' ') continue;
    one.push_back(c);
    if (one.size() >= 900) break;
  }
  while (!one.empty() && one.back() == ' ') one.pop_back();
  return kind + one;
}

std::string dsn_fields(DsnReport const& r) {
  std::string out = "Reporting-MTA: dns; " + r.reporting_mta + "\n";
  if (r.arrival > 0) out += "Arrival-Date: " + date822(r.arrival) + "\n";
  for (auto const& e : r.rcpts) {
    out += "\nFinal-Recipient: rfc822; " + e.rcpt + "\n";
    out += "Action: " + r.action + "\n";
    out += "Status: " + dsn_status(e.text, r.action == "failed" ? "5.0.0" : "4.0.0") + "\n";
    out += "Diagnostic-Code: " + dsn_diagnostic(e.text) + "\n";
  }
  return out;
}

std::string bounce_record(std::string_view rcpt, std::string_view report) {
  std::string r = "<";
  for (char c : rcpt) r.push_back(c == '\n' ? '_' : c);
  r += ">:\n";
  size_t head = r.size();
  while (!report.empty() && report.back() == '\n') report.remove_suffix(1);
  r += report;
  if (!report.empty()) r.push_back('\n');
  // A blank line would end the record: qmail turns the second newline into
  // '/', here also where the report starts with one.
  for (size_t i = r.size(); i-- > head;)
    if (r[i] == '\n' && r[i - 1] == '\n') r[i] = '/';
  r += "\n";
  return r;
}

bool bounce_append(queue::Layout const& q, uint64_t id, std::string_view record) {
  std::string fn = q.path(queue::Dir::bounce, id);
  std::string data;
  if (!read_file(fn.c_str(), &data, size_t(1) << 30) && errno != ENOENT) return false;
  // A retry after a failed directory sync must not add the record twice.
  if (data.find(record) != std::string::npos) return true;
  data.append(record);
  return write_file_atomic(fn, data, 0600);
}

BounceKind bounce_kind(std::string_view sender) {
  if (sender == "#@[]") return BounceKind::discard;
  if (sender.empty()) return BounceKind::double_bounce;
  return BounceKind::bounce;
}

namespace {

// qmail quotes a local part that needs it; our bouncefrom is a plain word.
std::string quote_local(std::string_view s) {
  for (char c : s)
    if (c == ' ' || c == '"' || c == '\\' || c == '(' || c == ')' || c == '<' || c == '>' ||
        c == ',' || c == ';' || c == ':' || c == '@' || c == '[' || c == ']')
      return "\"" + std::string(s) + "\"";
  return std::string(s);
}

std::string boundary(uint64_t id, time_t now) {
  return "qfleet-" + fmt_u64(id) + "-" + fmt_u64(uint64_t(now)) + "/" + "report";
}

time_t arrival_of(queue::Layout const& q, uint64_t id) {
  struct stat st;
  // mess/N: written once at arrival (info/N's mtime is 1 for an expired message).
  if (::stat(q.path(queue::Dir::mess, id).c_str(), &st) < 0 || st.st_mtime <= 1) return 0;
  return st.st_mtime;
}

void report_head(queue::QueueClient& qc, BounceConfig const& cfg, std::string const& to,
                 std::string const& subject, std::string const& b, time_t now) {
  qc.put("Date: " + date822(now) + "\n");
  qc.put("From: " + quote_local(cfg.bouncefrom) + "@" + cfg.bouncehost + "\n");
  qc.put("To: " + to + "\n");
  qc.put("Subject: " + subject + "\n");
  qc.put("Auto-Submitted: auto-replied\n");
  qc.put("MIME-Version: 1.0\n");
  qc.put("Content-Type: multipart/report; report-type=delivery-status;\n\tboundary=\"" + b + "\"\n\n");
  qc.put("This is a MIME-encapsulated message.\n\n");
  qc.put("--" + b + "\nContent-Type: text/plain; charset=us-ascii\nContent-Description: Notification\n\n");
}

// RFC 3464: the notice in words, the fields, the message.
int dsn_inject(queue::Layout const& q, uint64_t id, std::string const& sender, bool dbl, std::string const& to,
               int bfd, int mfd, BounceConfig const& cfg, time_t now, pid_t* qp) {
  std::string records;
  char buf[8192];
  ssize_t r;
  while ((r = ::read(bfd, buf, sizeof buf)) > 0) records.append(buf, size_t(r));
  if (r < 0) return qq::read;
  DsnReport rep;
  rep.reporting_mta = cfg.bouncehost;
  rep.arrival = arrival_of(q, id);
  rep.action = "failed";
  rep.rcpts = parse_bounce_records(records);
  std::string b = boundary(id, now);
  queue::QueueClient qc;
  if (!qc.open()) return 120;
  *qp = qc.pid();
  report_head(qc, cfg, to, "Undelivered Mail Returned to Sender", b, now);
  qc.put("Hi. This is the qmail-send program at " + cfg.bouncehost + ".\n");
  qc.put(dbl ? "I tried to deliver a bounce message to this address, but the bounce bounced!\n"
             : "I'm afraid I wasn't able to deliver your message to the following addresses.\n"
               "This is a permanent error; I've given up. Sorry it didn't work out.\n");
  qc.put("\n" + records);
  qc.put("--" + b + "\nContent-Type: message/delivery-status\nContent-Description: Delivery report\n\n");
  qc.put(dsn_fields(rep));
  qc.put("\n--" + b + "\nContent-Type: message/rfc822\nContent-Description: Undelivered Message\n\n");
  qc.put("Return-Path: <" + sender + ">\n");
  qc.put_fd(mfd);
  qc.put("\n--" + b + "--\n");
  return qc.close(dbl ? "#@[]" : "", {to});
}

// The message's header, up to the first empty line (at most 64 KiB).
std::string header_of(int mfd) {
  std::string h;
  char buf[8192];
  ssize_t r;
  while (h.size() < 65536 && (r = ::read(mfd, buf, sizeof buf)) > 0) {
    h.append(buf, size_t(r));
    size_t e = h.find("\n\n");
    if (e != std::string::npos) {
      h.resize(e + 1);
      return h;
    }
    if (h.rfind("\n", 0) == 0) return std::string();
  }
  if (h.size() > 65536) h.resize(65536);
  if (!h.empty() && h.back() != '\n') h.push_back('\n');
  return h;
}

}  // namespace

int warning_inject(queue::Layout const& q, uint64_t id, std::string_view sender_in,
                   std::vector<std::pair<std::string, std::string>> const& rcpts,
                   BounceConfig const& cfg, time_t now, pid_t* qp) {
  std::string sender(sender_in);
  if (sender.size() >= 5 && sender.compare(sender.size() - 4, 4, "-@[]") == 0) sender.resize(sender.size() - 4);
  Fd mfd(::open(q.path(queue::Dir::mess, id).c_str(), O_RDONLY | O_CLOEXEC));
  if (!mfd.ok()) return qq::read;
  std::string headers = header_of(mfd.get());
  time_t arrival = arrival_of(q, id);
  std::string records;
  DsnReport rep;
  rep.reporting_mta = cfg.bouncehost;
  rep.arrival = arrival;
  rep.action = "delayed";
  for (auto const& [a, t] : rcpts) {
    records += bounce_record(a, t);
    rep.rcpts.push_back({a, t});
  }
  std::string words =
      "Hi. This is the qmail-send program at " + cfg.bouncehost + ".\n"
      "Your message has not been delivered yet to the following addresses" +
      (arrival ? " after " + fmt_u64(uint64_t((now - arrival) / 3600)) + " hour(s)" : std::string()) + ".\n"
      "I will keep trying until it has been in the queue " + fmt_u64(uint64_t(cfg.lifetime / 3600)) +
      " hour(s).\nThis is only a warning: you do not need to send your message again.\n\n";
  queue::QueueClient qc;
  if (!qc.open()) return 120;
  *qp = qc.pid();
  if (cfg.dsn) {
    std::string b = boundary(id, now);
    report_head(qc, cfg, sender, "Delayed Mail (still being retried)", b, now);
    qc.put(words + records);
    qc.put("--" + b + "\nContent-Type: message/delivery-status\nContent-Description: Delivery report\n\n");
    qc.put(dsn_fields(rep));
    qc.put("\n--" + b + "\nContent-Type: text/rfc822-headers\nContent-Description: Message headers\n\n");
    qc.put(headers);
    qc.put("\n--" + b + "--\n");
  } else {
    qc.put("Date: " + date822(now) + "\n");
    qc.put("From: " + quote_local(cfg.bouncefrom) + "@" + cfg.bouncehost + "\n");
    qc.put("To: " + sender + "\n");
    qc.put("Subject: delay notice\n");
    qc.put("Auto-Submitted: auto-replied\n\n");
    qc.put(words + records);
    qc.put("--- Below this line are the headers of the message.\n\n");
    qc.put(headers);
  }
  // From <>: a warning must not bounce back to us as mail about mail.
  return qc.close("", {sender});
}

int bounce_inject(queue::Layout const& q, uint64_t id, std::string_view sender_in,
                  BounceConfig const& cfg, time_t now, pid_t* qp) {
  std::string sender(sender_in);
  // owner-@host-@[] -> owner-@host
  if (sender.size() >= 5 && sender.compare(sender.size() - 4, 4, "-@[]") == 0)
    sender.resize(sender.size() - 4);
  bool dbl = sender.empty();
  std::string to = dbl ? cfg.doublebounceto : sender;
  Fd bfd(::open(q.path(queue::Dir::bounce, id).c_str(), O_RDONLY | O_CLOEXEC));
  Fd mfd(::open(q.path(queue::Dir::mess, id).c_str(), O_RDONLY | O_CLOEXEC));
  if (!bfd.ok() || !mfd.ok()) return qq::read;
  if (cfg.dsn) return dsn_inject(q, id, sender, dbl, to, bfd.get(), mfd.get(), cfg, now, qp);

  queue::QueueClient qc;
  if (!qc.open()) return 120;
  *qp = qc.pid();
  qc.put("Date: " + date822(now) + "\n");
  qc.put("From: " + quote_local(cfg.bouncefrom) + "@" + cfg.bouncehost + "\n");
  qc.put("To: " + to + "\n");
  qc.put("Subject: failure notice\n\n");
  qc.put("Hi. This is the qmail-send program at " + cfg.bouncehost + ".\n");
  if (!dbl)
    qc.put(
        "I'm afraid I wasn't able to deliver your message to the following addresses.\n"
        "This is a permanent error; I've given up. Sorry it didn't work out.\n");
  else
    qc.put("I tried to deliver a bounce message to this address, but the bounce bounced!\n");
  qc.put("\n");
  qc.put_fd(bfd.get());
  qc.put(dbl ? "--- Below this line is the original bounce.\n\n"
             : "--- Below this line is a copy of the message.\n\n");
  qc.put("Return-Path: <" + sender + ">\n");
  qc.put_fd(mfd.get());
  return qc.close(dbl ? "#@[]" : "", {to});
}

}  // namespace qf::send
