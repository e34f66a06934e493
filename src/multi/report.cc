// ISC license.
#include "multi/report.h"

#include <time.h>

#include <cstdio>

#include "multi/ipc.h"

namespace qf::multi {

Snapshot snapshot(std::string const& base) {
  Snapshot s;
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  s.when = double(ts.tv_sec) + double(ts.tv_nsec) / 1e9;
  Shm shm;
  if (!shm.attach(base, false)) return s;
  Header const& h = shm.get()->h;
  s.ok = true;
  s.dynamic = h.dynamic.load() != 0;
  s.sched_pid = h.sched_pid.load();
  s.start = h.start.load();
  s.count = h.count.load();
  s.max_load = h.max_load.load();
  for (unsigned n = 1; n <= kMaxQueues; n++) {
    QueueSlot const* q = shm.slot(n);
    QState st = QState(q->state.load());
    if (st == QState::absent) continue;
    QueueFigures f;
    f.n = n;
    f.state = state_name(st);
    f.pid = q->send_pid.load();
    f.load = load_of(*q);
    f.lused = q->lused.load();
    f.lmax = q->lmax.load();
    f.rused = q->rused.load();
    f.rmax = q->rmax.load();
    f.todo = q->todo.load();
    f.queued = q->queued.load();
    f.backlog = q->backlog.load();
    f.delivered = q->delivered.load();
    for (int c = 0; c < 2; c++)
      for (int k = 0; k < 3; k++) f.results[c][k] = q->results[c][k].load();
    f.start_time = q->start_time.load();
    f.heartbeat = q->heartbeat.load();
    s.queues.push_back(f);
  }
  return s;
}

double rate(Snapshot const& a, Snapshot const& b, unsigned n) {
  double dt = b.when - a.when;
  if (dt <= 0) return 0;
  uint64_t x = 0, y = 0;
  for (auto const& q : a.queues)
    if (q.n == n) x = q.delivered;
  for (auto const& q : b.queues)
    if (q.n == n) y = q.delivered;
  return y >= x ? double(y - x) / dt : 0;
}

std::string table(Snapshot const& a, Snapshot const& b) {
  std::string out;
  char line[256];
  snprintf(line, sizeof line, "qfleet: %s, queues %u..%u, MAX_LOAD %u%%, qscheduler pid %u\n",
           b.dynamic ? "load-driven" : "static", b.start, b.start + b.count - 1, b.max_load,
           b.sched_pid);
  out += line;
  snprintf(line, sizeof line, "%-6s %-9s %5s %9s %9s %7s %8s %8s %10s\n", "QUEUE", "STATE", "LOAD",
           "LOCAL", "REMOTE", "TODO", "QUEUED", "BACKLOG", "DELIV/S");
  out += line;
  unsigned todo = 0, queued = 0, backlog = 0;
  double total = 0;
  for (auto const& q : b.queues) {
    std::string l = std::to_string(q.lused) + "/" + std::to_string(q.lmax);
    std::string r = std::to_string(q.rused) + "/" + std::to_string(q.rmax);
    double d = rate(a, b, q.n);
    total += d;
    todo += q.todo;
    queued += q.queued;
    backlog += q.backlog;
    snprintf(line, sizeof line, "%-6u %-9s %4u%% %9s %9s %7u %8u %8u %10.1f\n", q.n, q.state.c_str(),
             q.load, l.c_str(), r.c_str(), q.todo, q.queued, q.backlog, d);
    out += line;
  }
  snprintf(line, sizeof line, "%-6s %-9s %5s %9s %9s %7u %8u %8u %10.1f\n", "total", "", "", "", "",
           todo, queued, backlog, total);
  out += line;
  return out;
}

std::string monitor_lines(Snapshot const& a, Snapshot const& b) {
  std::string out;
  char line[256];
  for (auto const& q : b.queues) {
    snprintf(line, sizeof line,
             "queue %u: %s load %u%% local %u/%u remote %u/%u todo %u queued %u backlog %u "
             "deliveries %.1f/s\n",
             q.n, q.state.c_str(), q.load, q.lused, q.lmax, q.rused, q.rmax, q.todo, q.queued,
             q.backlog, rate(a, b, q.n));
    out += line;
  }
  return out;
}

}  // namespace qf::multi
