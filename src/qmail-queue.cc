// ISC license.
// qmail-queue: queue a mail message for delivery. See qmail-queue(8).
#include <new>

#include "queue/qq.h"
#include "sys/exitcodes.h"
#include "sys/skalibs.h"

char const* PROG = "qmail-queue";

int main() {
  try {
    return qf::queue::qmail_queue(0, 1);
  } catch (std::bad_alloc const&) {
    return qf::qq::nomem;
  }
}
