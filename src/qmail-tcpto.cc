// ISC license.
// qmail-tcpto: print the dead-host memory. See qmail-tcpto(8).
#include <stdlib.h>
#include <time.h>

#include <new>
#include <string>
#include <vector>

#include "conf/paths.h"
#include "queue/layout.h"
#include "remote/tcpto.h"
#include "sys/exitcodes.h"
#include "sys/fs.h"
#include "sys/skalibs.h"
#include "sys/strerr.h"

char const* PROG = "qmail-tcpto";

int main(int argc, char** argv) {
  using namespace qf;
  try {
    std::vector<std::string> queues(argv + 1, argv + argc);
    if (queues.empty()) {
      char const* qd = getenv("QUEUEDIR");
      queues.push_back(qd && *qd ? qd : conf::default_queue());
    }
    std::string out;
    int64_t now = ::time(nullptr);
    for (auto const& dir : queues) {
      std::string path = queue::Layout(dir, 1, false).lock("tcpto");
      std::vector<remote::tcpto::Record> recs;
      if (!remote::tcpto::File(path).list(&recs)) die_sys(ex::temp, "unable to read ", path.c_str());
      for (auto const& r : recs) {
        int64_t ago = now - r.when;
        out += r.ip + " timed out " + fmt_u64(uint64_t(ago < 0 ? 0 : ago)) +
               " seconds ago; # recent timeouts: " + fmt_u64(r.count) + "\n";
      }
    }
    if (!write_all(1, out)) die_sys(ex::temp, "unable to write output");
    return ex::ok;
  } catch (std::bad_alloc const&) {
    return ex::temp;
  }
}
