// ISC license.
// Reading the instance's segment for people: qmonitor's lines and qtop's table.
#ifndef QF_MULTI_REPORT_H
#define QF_MULTI_REPORT_H

#include <cstdint>
#include <string>
#include <vector>

namespace qf::multi {

struct QueueFigures {
  unsigned n = 0;
  std::string state;
  unsigned pid = 0;
  unsigned load = 0;
  unsigned lused = 0, lmax = 0, rused = 0, rmax = 0;
  unsigned todo = 0, queued = 0, backlog = 0;
  uint64_t delivered = 0;
  uint64_t results[2][3] = {{0, 0, 0}, {0, 0, 0}};  ///< QueueSlot::results
  uint32_t start_time = 0, heartbeat = 0;
};

struct Snapshot {
  bool ok = false;
  bool dynamic = false;
  unsigned sched_pid = 0, start = 0, count = 0, max_load = 0;
  double when = 0;  ///< seconds, monotonic
  std::vector<QueueFigures> queues;
};

/// Reads the segment of base (ok false when there is none).
Snapshot snapshot(std::string const& base);

/// The deliveries per second of queue n between two snapshots.
double rate(Snapshot const& before, Snapshot const& after, unsigned n);

/// qtop's table (one header line, one line per queue, a total line).
std::string table(Snapshot const& before, Snapshot const& after);

/// qmonitor's lines, one per queue: "queue N: load L% local l/L remote r/R ...".
std::string monitor_lines(Snapshot const& before, Snapshot const& after);

}  // namespace qf::multi

#endif
