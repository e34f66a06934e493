// ISC license.
// qmail-rspawn: schedule remote deliveries. See qmail-rspawn(8).
#include <stdlib.h>
#include <unistd.h>

#include <new>

#include "conf/auto.h"
#include "conf/paths.h"
#include "conf/users.h"
#include "proto/spawn.h"
#include "remote/rspawn.h"
#include "sys/exitcodes.h"
#include "sys/skalibs.h"
#include "sys/strerr.h"

char const* PROG = "qmail-rspawn";

int main() {
  using namespace qf;
  char const* qd = getenv("QUEUEDIR");
  try {
    remote::RspawnOptions o{queue::Layout::from_env(qd && *qd ? qd : conf::default_queue())};
    o.slots = conf::auto_spawn < spawn::kMaxSlots ? conf::auto_spawn : unsigned(spawn::kMaxSlots);
    // Messages belong to qmailq when the suite runs with its own users
    // (qmail-start as root hands us qmailr), to the one user otherwise.
    o.message_owner = ::getuid();
    conf::Account q, r;
    bool as_qmailr = conf::find_user(conf::User::qmailr, &r) && r.uid == ::getuid() && r.uid != 0;
    if (conf::privileged() || as_qmailr) {
      if (!conf::find_user(conf::User::qmailq, &q)) die(ex::temp, "unable to find user qmailq");
      o.message_owner = q.uid;
    }
    return remote::rspawn(o);
  } catch (std::bad_alloc const&) {
    return ex::temp;
  }
}
