// ISC license.
// qmonitor -p: the figures of every queue in Prometheus' text exposition
// format (version 0.0.4). Pure: what the disk shows (admin/read.h) and what
// qmail-send publishes (multi/report.h), at a given time.
#ifndef QF_ADMIN_METRICS_H
#define QF_ADMIN_METRICS_H

#include <ctime>
#include <string>
#include <vector>

#include "admin/read.h"
#include "multi/report.h"

namespace qf::admin {

struct QueueMetrics {
  unsigned number = 0;
  std::vector<Message> const* messages = nullptr;  ///< that queue's
  multi::QueueFigures const* live = nullptr;       ///< nullptr: no qmail-send publishes it
};

/// Every metric family, HELP and TYPE first, one sample per queue (and channel).
std::string prometheus(std::vector<QueueMetrics> const& queues, time_t now);

}  // namespace qf::admin

#endif
