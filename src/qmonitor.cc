// ISC license.
// qmonitor: report the load of every queue, periodically. See qmonitor(8).
#include <signal.h>
#include <unistd.h>

#include <time.h>

#include <vector>

#include "admin/metrics.h"
#include "admin/read.h"
#include "conf/paths.h"
#include "queue/trigger.h"
#include "multi/report.h"
#include "sys/exitcodes.h"
#include "sys/fs.h"
#include "sys/strerr.h"

char const* PROG = "qmonitor";

namespace {
constexpr char kUsage[] = "qmonitor [ -i interval ] [ -c count ] [ -t threshold ] | qmonitor -p";

// -p: one Prometheus exposition of every queue of the instance, then exit.
int metrics() {
  using namespace qf;
  multi::Snapshot snap = multi::snapshot(conf::queue_base());
  auto refs = queue::instance_queues();
  std::vector<admin::Scan> scans(refs.size());
  std::vector<admin::QueueMetrics> qs;
  int rc = ex::ok;
  for (size_t i = 0; i < refs.size(); i++) {
    admin::read_queue(queue::Layout::from_env(refs[i].dir), refs[i].number, true, &scans[i]);
    for (auto const& e : scans[i].errors) {
      warn(e.c_str());
      rc = ex::temp;
    }
  }
  for (size_t i = 0; i < refs.size(); i++) {
    admin::QueueMetrics m;
    m.number = refs[i].number;
    m.messages = &scans[i].messages;
    for (auto const& f : snap.queues)
      if (snap.ok && f.n == refs[i].number) m.live = &f;
    qs.push_back(m);
  }
  if (!write_all(1, admin::prometheus(qs, ::time(nullptr)))) die_sys(ex::temp, "unable to write output");
  return rc;
}
}

int main(int argc, char** argv) {
  using namespace qf;
  uint64_t interval = 60, count = 0, threshold = 0;
  int opt;
  bool prom = false;
  while ((opt = getopt(argc, argv, "i:c:t:p")) != -1) {
    if (opt == 'p') {
      prom = true;
      continue;
    }
    uint64_t* dst = opt == 'i' ? &interval : opt == 'c' ? &count : opt == 't' ? &threshold : nullptr;
    if (!dst || !scan_u64(optarg, dst)) die_usage(kUsage);
  }
  if (interval < 1) die_usage(kUsage);
  if (prom) return metrics();
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
