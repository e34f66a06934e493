// ISC license.
// sendmail: the sendmail interface to qmail-inject. See sendmail(8).
#include <signal.h>
#include <unistd.h>

#include <new>

#include <sys/mman.h>

#include <string>
#include <vector>

#include "addr/rewrite.h"
#include "addr/routes.h"
#include "conf/control.h"
#include "conf/paths.h"
#include "deliver/usermap.h"
#include "inject/sendmail.h"
#include "inject/verify.h"
#include "sys/fs.h"
#include "queue/layout.h"
#include "queue/trigger.h"
#include "sys/exitcodes.h"
#include "sys/strerr.h"

char const* PROG = "sendmail";

namespace {

// -bv: the report goes to the sender (-f, else the caller) as a message from
// MAILER-DAEMON with the null envelope sender; nothing else is delivered.
int verify(qf::inject::SendmailRequest const& req, qf::inject::Identity const& id,
           qf::inject::Config const& cfg) {
  using namespace qf;
  if (req.recipients.empty()) die(ex::perm, "no recipients to verify");
  addr::Rewriter rw;
  if (!rw.load()) die_sys(ex::temp, "unable to read the control files");
  std::vector<std::string> lines;
  if (!conf::control_list("smtproutes", &lines)) die_sys(ex::temp, "unable to read control/smtproutes");
  addr::Routes routes;
  routes.parse(lines);
  deliver::AssignFile assign(path_join(conf::home(), "users/assign"));
  std::string err;
  bool assign_ok = assign.refresh(&err);
  inject::VerifyRules rules{&rw, &routes, assign_ok ? &assign.table() : nullptr};
  std::vector<std::string> report;
  for (auto const& r : req.recipients) report.push_back(inject::verify_line(r, rules));
  std::string me;
  if (!conf::control_line("me", &me, cfg.defaulthost)) die_sys(ex::temp, "unable to read control/me");
  std::string to = req.sender && !req.sender->empty() ? *req.sender : id.user;
  inject::Options opt;
  opt.mode = inject::Recipients::args;
  opt.sender = "";
  opt.recipients = {to};
  int fd = ::memfd_create("sendmail-bv", MFD_CLOEXEC);
  std::string msg = inject::verify_report(me, report);
  if (fd < 0 || !write_all(fd, msg) || ::lseek(fd, 0, SEEK_SET) != 0)
    die_sys(ex::temp, "unable to build the report");
  inject::Result r = inject::inject(opt, id, cfg, fd, 1);
  ::close(fd);
  if (!r.ok()) die(r.code, r.error.c_str());
  std::string said = "Mail Delivery Status Report will be mailed to <" + to + ">.\n";
  write_all(1, said);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace qf::inject;
  ::signal(SIGPIPE, SIG_IGN);  // a dead qmail-queue or reader is an error value, not a signal
  Result r;
  try {
    SendmailRequest req;
    if (!parse_sendmail(argc, argv, &req)) qf::die_usage(kSendmailUsage);
    if (!req.refusal.empty()) qf::die(qf::ex::perm, req.refusal.c_str());
    if (req.list_queue) {
      // Postfix's mailq and sendmail -bp: the queue listing is qmail-qread's.
      std::string prog = qf::conf::program("qmail-qread");
      char const* args[] = {prog.c_str(), nullptr};
      ::execv(prog.c_str(), const_cast<char* const*>(args));
      qf::die_sys(qf::ex::temp, "unable to run ", prog.c_str());
    }
    if (req.flush || req.flush_sender) {
      // Postfix's sendmail -q: F A D I; -qR site: that destination only;
      // -qS sender: that sender's mail only.
      std::string bytes = req.flush_sender ? qf::queue::flush_sender_request(*req.flush_sender)
                          : req.flush->empty() ? std::string(qf::queue::kFlushAll)
                                               : qf::queue::flush_destination_request(*req.flush);
      bool any = false;
      for (auto const& d : qf::queue::flush_targets())
        any |= qf::queue::pull_trigger(qf::queue::Layout(d, 1, false), bytes);
      if (!any) qf::die_sys(qf::ex::temp, "unable to write to lock/trigger");
      return 0;
    }
    Options opt;
    Identity id = identity_from_env();
    sendmail_to_inject(req, &opt, &id);
    Config cfg;
    r = load_config(id, &cfg);
    if (r.ok() && req.verify) return verify(req, id, cfg);
    if (r.ok()) r = inject(opt, id, cfg, 0, 1);
  } catch (std::bad_alloc const&) {
    r = {qf::ex::temp, "out of memory"};
  }
  if (!r.ok()) qf::die(r.code, r.error.c_str());
  return 0;
}
