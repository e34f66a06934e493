// ISC license.
// qmail-queued: a long-lived qmail-queue for one queue. See qmail-queued(8).
#include <stdlib.h>

#include <new>

#include "conf/control.h"
#include "conf/paths.h"
#include "queue/queued.h"
#include "sys/exitcodes.h"
#include "sys/skalibs.h"
#include "sys/strerr.h"

char const* PROG = "qmail-queued";

int main() {
  using namespace qf;
  char const* qd = getenv("QUEUEDIR");
  uint64_t workers;
  if (!conf::control_uint("queuedworkers", &workers, 4) || workers < 1 || workers > 64)
    die(ex::temp, "unable to read control/queuedworkers (a number from 1 to 64)");
  try {
    int code = queue::run_queued(queue::Layout::from_env(qd && *qd ? qd : conf::default_queue()),
                                 unsigned(workers));
    if (code != ex::ok) die_sys(code, "unable to serve ", qd ? qd : "the queue");
    return code;
  } catch (std::bad_alloc const&) {
    return ex::temp;
  }
}
