// ISC license.
#include "inject/verify.h"

namespace qf::inject {

std::string verify_line(std::string_view rcpt, VerifyRules const& r) {
  std::string out = "<" + std::string(rcpt) + ">: ";
  addr::Rewritten w = r.rewriter->rewrite(rcpt);
  size_t at = w.addr.rfind('@');
  std::string local = at == std::string::npos ? w.addr : w.addr.substr(0, at);
  std::string domain = at == std::string::npos ? "" : w.addr.substr(at + 1);
  for (char& c : domain)
    if (c >= 'A' && c <= 'Z') c = char(c - 'A' + 'a');
  if (w.addr != rcpt) out += "rewritten to <" + w.addr + ">; ";
  if (w.local) {
    out += "local delivery";
    deliver::UserMapping m;
    if (!r.assign) {
      out += ": users/assign cannot be read (qmail-lspawn would defer)";
    } else if (r.assign->lookup(local, &m)) {
      out += " as user " + m.user + " (uid " + std::to_string(m.uid) + "), home " + m.home +
             ", instructions in " + m.home + "/.qmail" + m.dash + m.ext +
             " (else .qmail-default files, else the default delivery)";
    } else {
      out += " to local part " + local +
             ": no users/assign entry; qmail-lspawn looks it up in the password database "
             "(unknown users go to alias)";
    }
    return out;
  }
  out += "remote delivery by SMTP";
  addr::Route route = addr::route_for(*r.routes, domain);
  switch (route.kind) {
    case addr::Route::Kind::relay: out += " to relay " + route.name() + " (smtproutes)"; break;
    case addr::Route::Kind::literal: out += " to the address " + route.name(); break;
    case addr::Route::Kind::mx:
      out += " to the MX hosts of " + route.name() + " (DNS, not looked up now)";
      break;
  }
  return out;
}

std::string verify_report(std::string_view me, std::vector<std::string> const& lines) {
  std::string m =
      "From: MAILER-DAEMON\n"
      "Subject: Mail Delivery Status Report\n"
      "Auto-Submitted: auto-replied\n"
      "\n"
      "This is the mail system at host " + std::string(me) + ".\n"
      "\n"
      "Enclosed is the mail delivery report that you requested (sendmail -bv).\n"
      "No message was delivered: this is what would happen to each address.\n"
      "\n";
  for (auto const& l : lines) m += l + "\n";
  return m;
}

}  // namespace qf::inject
