// ISC license.
// qmonitor: report the load of every queue, periodically. See qmonitor(8).
#include <signal.h>
#include <unistd.h>

#include "conf/paths.h"
#include "multi/report.h"
#include "sys/exitcodes.h"
#include "sys/fs.h"
#include "sys/strerr.h"

char const* PROG = "qmonitor";

namespace {
constexpr char kUsage[] = "qmonitor [ -i interval ] [ -c count ] [ -t threshold ]";
}

int main(int argc, char** argv) {
  using namespace qf;
  uint64_t interval = 60, count = 0, threshold = 0;
  int opt;
  while ((opt = getopt(argc, argv, "i:c:t:")) != -1) {
    uint64_t* dst = opt == 'i' ? &interval : opt == 'c' ? &count : opt == 't' ? &threshold : nullptr;
    if (!dst || !scan_u64(optarg, dst)) die_usage(kUsage);
  }
  if (interval < 1) die_usage(kUsage);
  std::string base = conf::queue_base();
  multi::Snapshot prev = multi::snapshot(base);
  if (!prev.ok) die(ex::temp, "no qscheduler publishes queues for ", base.c_str());
  for (uint64_t i = 0; count == 0 || i < count; i++) {
    sleep(unsigned(interval));
    multi::Snapshot cur = multi::snapshot(base);
    if (!cur.ok) die(ex::temp, "qscheduler for ", base.c_str(), " went away");
    unsigned peak = 0;
    for (auto const& q : cur.queues) peak = q.load > peak ? q.load : peak;
    if (peak >= threshold && !write_all(1, multi::monitor_lines(prev, cur))) return ex::temp;
    prev = cur;
  }
  return ex::ok;
}
