// ISC license.
// queue-fix: create or repair qfleet queues. See queue-fix(8).
#include <stdlib.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "conf/auto.h"
#include "conf/paths.h"
#include "queue/fix.h"
#include "queue/select.h"
#include "sys/exitcodes.h"
#include "sys/fs.h"
#include "sys/strerr.h"

char const* PROG = "queue-fix";

namespace {

constexpr char kUsage[] = "queue-fix [ -Nq ] [ -s split ] [ -b | -B ] [ queuedir ... ]";

void say(int fd, std::string const& s) { qf::write_all(fd, std::string(PROG) + ": " + s + "\n"); }

}  // namespace

int main(int argc, char** argv) {
  using namespace qf;
  bool dry = false, quiet = false;
  unsigned split = conf::split();
  bool bigtodo = conf::bigtodo();
  int opt;
  while ((opt = getopt(argc, argv, "Nqs:bB")) != -1) {
    switch (opt) {
      case 'N': dry = true; break;
      case 'q': quiet = true; break;
      case 's': {
        uint64_t n;
        if (!scan_u64(optarg, &n) || n < 1) die_usage(kUsage);
        if (n > conf::auto_split)
          die(ex::perm, "split ", optarg, " exceeds conf-split (the daemons could not use it)");
        split = unsigned(n);
        break;
      }
      case 'b': bigtodo = true; break;
      case 'B': bigtodo = false; break;
      default: die_usage(kUsage);
    }
  }
  std::vector<std::string> queues(argv + optind, argv + argc);
  if (queues.empty()) {
    queue::QueueSet set;
    if (char const* qd = getenv("QUEUEDIR"); qd && *qd)
      queues.emplace_back(qd);
    else if (queue::queue_set_from_env(&set))
      for (unsigned i = 0; i < set.count; i++) queues.push_back(set.queue(set.start + i));
    else
      queues.push_back(conf::default_queue());
  }

  queue::FixOptions o;
  o.dry_run = dry;
  std::string err;
  if (!queue::resolve_owners(&o.owners, &err)) die(ex::temp, err.c_str());

  queue::FixReport r;
  r.change = [&](std::string const& s) {
    if (!quiet) say(1, s);
  };
  r.problem = [](std::string const& s) { say(2, "warning: " + s); };
  r.error = [](std::string const& s) { say(2, "fatal: " + s); };

  bool failed = false;
  unsigned changes = 0, problems = 0;
  for (auto const& dir : queues) {
    queue::FixResult res = queue::fix_queue(queue::Layout(dir, split, bigtodo), o, r);
    failed |= res.failed;
    changes += res.changes;
    problems += res.problems;
  }
  if (failed) return ex::temp;
  if (problems) return 2;
  if (dry && changes) return 1;
  return ex::ok;
}
