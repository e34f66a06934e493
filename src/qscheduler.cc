// ISC license.
// qscheduler: run the daemons of every numbered queue. See qscheduler(8).
#include <unistd.h>

#include <string>

#include "multi/supervisor.h"
#include "sys/exitcodes.h"
#include "sys/strerr.h"

char const* PROG = "qscheduler";

namespace {
constexpr char kUsage[] = "qscheduler [ -s | -d [ -cn ] | -o | -l ] [ defaultdelivery [ logger arg ... ] ]";
}

int main(int argc, char** argv) {
  using namespace qf;
  multi::Options o;
  bool list = false, mode = false;
  int opt;
  while ((opt = getopt(argc, argv, "+sdcnol")) != -1) {
    switch (opt) {
      case 's': o.dynamic = false; mode = true; break;
      case 'd': o.dynamic = true; mode = true; break;
      case 'c': o.compat = true; break;
      case 'n': o.fixed = true; break;
      case 'o': o.once = true; mode = true; break;
      case 'l': list = true; break;
      default: die_usage(kUsage);
    }
  }
  std::string err;
  if (!multi::options_from_env(&o, &err)) die(ex::perm, err.c_str());
  if (list) return multi::list_queues(o.base);
  if (!mode) die_usage(kUsage);
  if ((o.compat || o.fixed) && !o.dynamic) die(ex::perm, "-c and -n go with -d");
  o.start_args.assign(argv + optind, argv + argc);
  multi::QScheduler s(std::move(o));
  return s.run();
}
