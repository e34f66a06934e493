// ISC license.
// qmail-qread (also installed as mailq): list every queued message of every
// queue of the instance. See qmail-qread(8).
#include <time.h>
#include <unistd.h>

#include <string>

#include "admin/format.h"
#include "admin/read.h"
#include "queue/trigger.h"
#include "sys/exitcodes.h"
#include "sys/fs.h"
#include "sys/strerr.h"

char const* PROG = "qmail-qread";

namespace {
constexpr char kUsage[] = "qmail-qread [ -m ]";
}

int main(int argc, char** argv) {
  using namespace qf;
  bool machine = false;
  int opt;
  while ((opt = getopt(argc, argv, "m")) != -1) {
    if (opt == 'm') machine = true;
    else die_usage(kUsage);
  }
  if (optind != argc) die_usage(kUsage);
  int rc = ex::ok;
  std::string out;
  for (auto const& q : queue::instance_queues()) {
    admin::Scan scan;
    admin::read_queue(queue::Layout::from_env(q.dir), q.number, true, &scan);
    time_t now = ::time(nullptr);
    for (auto const& e : scan.errors) {
      warn(e.c_str());
      rc = ex::temp;
    }
    for (auto const& m : scan.messages) {
      if (machine) admin::qread_lines(m, now, &out);
      else admin::qread_message(m, now, &out);
      if (out.size() > (1 << 16)) {
        if (!write_all(1, out)) die_sys(ex::temp, "unable to write output");
        out.clear();
      }
    }
  }
  if (!write_all(1, out)) die_sys(ex::temp, "unable to write output");
  return rc;
}
