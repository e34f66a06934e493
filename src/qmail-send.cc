// ISC license.
// qmail-send: deliver mail messages from the queue. See qmail-send(8).
#include <stdlib.h>

#include <new>

#include "conf/paths.h"
#include "send/send.h"
#include "sys/exitcodes.h"
#include "sys/skalibs.h"

char const* PROG = "qmail-send";

int main() {
  using namespace qf;
  char const* qd = getenv("QUEUEDIR");
  try {
    send::Send s(queue::Layout::from_env(qd && *qd ? qd : conf::default_queue()));
    return s.run();
  } catch (std::bad_alloc const&) {
    return ex::temp;
  }
}
