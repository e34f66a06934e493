// ISC license.
#include "send/bounce.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

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
  return true;
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

}  // namespace

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
