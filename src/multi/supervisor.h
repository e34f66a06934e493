// ISC license.
// qscheduler's supervisor: one qmail-start per numbered queue, supervised; a
// fixed count (-s) or a count that follows the load (-d, the rule in
// autoscale.h). It schedules queues, not deliveries: qmail-send's delivery
// scheduler is send/core.h. See qscheduler(8), multi-queue(7).
#ifndef QF_MULTI_SUPERVISOR_H
#define QF_MULTI_SUPERVISOR_H

#include <sys/types.h>

#include <cstdint>
#include <ctime>
#include <map>
#include <string>
#include <vector>

#include "multi/autoscale.h"
#include "multi/ipc.h"
#include "sys/fd.h"
#include "sys/loop.h"

namespace qf::multi {

struct Options {
  bool dynamic = false;  ///< -d
  bool compat = false;   ///< -c: injectors pull lock/trigger as well as sending notes
  bool fixed = false;    ///< -n: never change the count
  bool once = false;     ///< -o: deliver what is queued, then exit
  std::vector<std::string> start_args;  ///< defaultdelivery and logger, for qmail-start
  std::string base;
  unsigned start = 1;
  unsigned count = 1;     ///< QUEUE_COUNT: the initial (and minimum) count
  unsigned max = 20;      ///< QUEUE_MAX
  unsigned max_load = 90;  ///< MAX_LOAD, percent
  unsigned split = 151;
  bool bigtodo = false;
  uint64_t mq_len = 1024, mq_size = 64;  ///< msgqueuelen, msgqueuesize
};

/// Reads the environment and control files into o (QUEUE_BASE, QUEUE_START,
/// QUEUE_COUNT, QUEUE_MAX, MAX_LOAD, CONFSPLIT, BIGTODO; msgqueuelen,
/// msgqueuesize). False with a message in *err on a bad value.
bool options_from_env(Options* o, std::string* err);

class QScheduler {
 public:
  explicit QScheduler(Options o)
      : o_(std::move(o)), scale_({o_.max_load, o_.count, 5, 30, 5}) {}
  /// Runs until TERM (0) or a fatal start-up problem (111).
  int run();


 private:
  struct Queue {
    unsigned n = 0;
    pid_t pid = 0;            // qmail-start, then qmail-send (same process)
    time_t started = 0;
    unsigned fails = 0;       // consecutive quick deaths; decays when it runs well
    std::vector<time_t> restarts;  // restart times in the last 10 minutes
    time_t restart_at = 0;    // 0: running or not wanted
    bool stopping = false;    // TERM sent on purpose (drain or exit)
    bool draining = false;
    Fd drain_lock;            // exclusive lock on lock/drain once taken
  };
  std::string dir(unsigned n) const;
  bool prepare(unsigned n);  // queue-fix, message queue
  void start(Queue& q);
  bool evict_old_send(unsigned n);
  void on_exit(pid_t pid, int status);
  void tick(time_t now);
  void grow(time_t now);
  void drain_step(Queue& q, time_t now);
  bool empty(unsigned n) const;
  void forward(int sig);
  void say(std::string const& s);
  void warn(std::string const& s);

  Options o_;
  Shm shm_;
  std::map<unsigned, Queue> queues_;
  SignalPipe sig_;
  Fd lock_;
  bool exiting_ = false;
  uid_t qmailq_uid_ = 0;
  gid_t qmail_gid_ = 0;
  time_t last_tick_ = 0;
  Autoscaler scale_{{}};
};

/// qscheduler -l: prints every queue of base with its daemons, pids, uptime and
/// load. Returns 0, or 1 when no qscheduler publishes a segment for base.
int list_queues(std::string const& base);

}  // namespace qf::multi

#endif
