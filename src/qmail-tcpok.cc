// ISC license.
// qmail-tcpok: forget every dead host. See qmail-tcpok(8).
#include <stdlib.h>

#include <new>
#include <string>
#include <vector>

#include "conf/paths.h"
#include "queue/layout.h"
#include "remote/tcpto.h"
#include "sys/exitcodes.h"
#include "sys/skalibs.h"
#include "sys/strerr.h"

char const* PROG = "qmail-tcpok";

int main(int argc, char** argv) {
  using namespace qf;
  try {
    std::vector<std::string> queues(argv + 1, argv + argc);
    if (queues.empty()) {
      char const* qd = getenv("QUEUEDIR");
      queues.push_back(qd && *qd ? qd : conf::default_queue());
    }
    for (auto const& dir : queues) {
      std::string path = queue::Layout(dir, 1, false).lock("tcpto");
      if (!remote::tcpto::File(path).clear()) die_sys(ex::temp, "unable to clear ", path.c_str());
    }
    return ex::ok;
  } catch (std::bad_alloc const&) {
    return ex::temp;
  }
}
