// ISC license.
// sendmail: the sendmail interface to qmail-inject. See sendmail(8).
#include <signal.h>

#include <new>

#include "inject/sendmail.h"
#include "queue/layout.h"
#include "queue/trigger.h"
#include "sys/exitcodes.h"
#include "sys/strerr.h"

char const* PROG = "sendmail";

int main(int argc, char** argv) {
  using namespace qf::inject;
  ::signal(SIGPIPE, SIG_IGN);  // a dead qmail-queue or reader is an error value, not a signal
  Result r;
  try {
    SendmailRequest req;
    if (!parse_sendmail(argc, argv, &req)) qf::die_usage(kSendmailUsage);
    if (!req.refusal.empty()) qf::die(qf::ex::perm, req.refusal.c_str());
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
    if (r.ok()) r = inject(opt, id, cfg, 0, 1);
  } catch (std::bad_alloc const&) {
    r = {qf::ex::temp, "out of memory"};
  }
  if (!r.ok()) qf::die(r.code, r.error.c_str());
  return 0;
}
