// ISC license.
// qscheduler -d's rule for the number of queues, pure: fed each active
// queue's load once a second and the time, it says when to add a queue and
// when to drain one. No clock, no shared memory: the supervisor
// (supervisor.h) reads those and acts. Not to be confused with qmail-send's
// delivery scheduler (send/core.h), which orders deliveries within a queue.
#ifndef QF_MULTI_AUTOSCALE_H
#define QF_MULTI_AUTOSCALE_H

#include <ctime>
#include <map>
#include <vector>

namespace qf::multi {

struct AutoscaleParams {
  unsigned max_load = 90;   ///< MAX_LOAD, percent
  unsigned min_count = 1;   ///< QUEUE_COUNT: never drain below it
  time_t grow_window = 5;   ///< seconds every queue must stay at or above max_load
  time_t shrink_window = 30;  ///< seconds every queue must stay below max_load / 2
  unsigned samples = 5;     ///< one-second samples in a queue's mean load
};

class Autoscaler {
 public:
  enum class Action { none, grow, drain };
  explicit Autoscaler(AutoscaleParams p) : p_(p) {}

  /// One sample per second. loads: the load (percent) of each active queue
  /// by number; live: queues running and not draining; draining: a queue is
  /// being drained now. grow: add a queue; drain: drain the highest one.
  Action tick(time_t now, std::map<unsigned, unsigned> const& loads, unsigned live, bool draining);
  /// The mean load of queue n over its last samples (0 if unknown).
  unsigned mean(unsigned n) const;
  /// Forgets every sample and window (after a queue was added).
  void reset();

 private:
  AutoscaleParams p_;
  std::map<unsigned, std::vector<unsigned>> samples_;
  time_t over_since_ = 0, under_since_ = 0;
};

}  // namespace qf::multi

#endif
