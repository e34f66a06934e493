// ISC license.
// qmail-send: the scheduler of one queue. A thin event loop around the pieces
// in sched.h: it opens due (message, channel) jobs, hands their recipients to
// the spawners many per loop turn, records results, bounces, and removes
// finished messages through qmail-clean. See qmail-send(8).
//
// Fds (qmail-start's map): 0 log, 1 -> qmail-lspawn, 2 <- qmail-lspawn,
// 3 -> qmail-rspawn, 4 <- qmail-rspawn, 5 -> qmail-clean, 6 <- qmail-clean,
// 7 -> todo-proc, 8 <- todo-proc.
#ifndef QF_SEND_SEND_H
#define QF_SEND_SEND_H

#include <sys/types.h>

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "multi/ipc.h"
#include "proto/spawn.h"
#include "queue/layout.h"
#include "send/bounce.h"
#include "send/log.h"
#include "send/rewrite.h"
#include "send/sched.h"
#include "sys/fd.h"
#include "sys/loop.h"

namespace qf::send {

class Send {
 public:
  explicit Send(queue::Layout q);
  ~Send();
  /// Runs until SIGTERM (exit 0 once in-flight work is done) or a lost
  /// connection (111). Start-up failures log "alert: cannot start: ..." and return 111.
  int run();

  /// Recipients per remote delivery (Postfix's default_destination_recipient_limit).
  static constexpr size_t kRemoteBatch = 50;
  /// Seconds before retrying after a system call failure (qmail's SLEEP_SYSFAIL).
  static constexpr time_t kSysfail = 123;
  /// Seconds between sweeps of crash leftovers in mess/ (qmail's SLEEP_CLEANUP).
  static constexpr time_t kCleanupInterval = 76431;

 private:
  struct Job {
    uint64_t id = 0;
    Channel ch = kLocal;
    time_t birth = 0;
    std::string sender;
    bool dying = false;
    Fd file;                  // the channel file, read-write for the done marks
    std::vector<Rcpt> rcpts;  // pending at open, grouped by domain
    size_t next = 0;          // next recipient to hand out
    unsigned inflight = 0;
    bool deferred = false;
  };
  struct Slot {
    bool used = false;
    uint64_t job = 0;
    std::vector<size_t> rcpts;
    std::vector<std::string> dids;
  };
  struct Bouncer {
    uint64_t id;
    Fd pipe;
    std::string out;
  };
  static uint64_t key(uint64_t id, Channel c) { return id * 2 + uint64_t(c); }

  bool startup();
  bool read_controls(bool initial);
  void scan_info();
  void status();
  std::string did_text(uint64_t n) const;

  void open_due(time_t now);
  bool open_job(uint64_t id, Channel c, time_t now);
  void dispatch();
  void on_report(Channel c, unsigned slot, std::vector<spawn::Result>& results);
  void mark_done(Job& j, size_t r);
  void close_job(uint64_t k);
  void channel_done(uint64_t id, Channel c);
  void finish(uint64_t id);
  void finish_after_bounce(uint64_t id);
  void start_bounce(uint64_t id, std::string const& sender);
  void bounce_output(size_t i);
  void reap_children();
  void run_timers(time_t now);
  void cleanup_step(time_t now);
  void todo_record(std::string_view rec);
  void clean_answers(std::string_view bytes);
  bool can_exit() const;
  void lost(char const* what);

  queue::Layout q_;
  Logger log_{0};
  Rewriter rw_;
  BounceConfig bcfg_;
  QmailRetry retry_;
  std::string qident_;
  time_t lifetime_ = 604800;
  unsigned concurrency_[kChannels] = {10, 20};
  unsigned slots_max_[kChannels] = {0, 0};
  unsigned used_[kChannels] = {0, 0};
  std::vector<Slot> slots_[kChannels];
  uint64_t next_did_ = 1;

  // Postfix's fairness: new mail (fresh_) and deferred mail (due_) are taken in
  // turn, so a retry storm never starves new mail nor the reverse.
  DueQueue fresh_[kChannels];
  DueQueue due_[kChannels];
  bool fresh_turn_[kChannels] = {true, true};
  std::unordered_map<uint64_t, std::unique_ptr<Job>> jobs_;
  std::deque<uint64_t> ready_[kChannels];  // open jobs with recipients to hand out
  size_t open_jobs_[kChannels] = {0, 0};
  std::multimap<time_t, uint64_t> done_timers_;  // messages to finish, by time
  std::multimap<time_t, uint64_t> clean_timers_;  // removals qmail-clean failed, to ask again

  OutQueue chan_out_[kChannels];
  std::unique_ptr<spawn::ReportReader> reports_[kChannels];
  bool spawn_alive_[kChannels] = {true, true};
  OutQueue clean_out_{5};
  std::deque<uint64_t> clean_wait_;
  bool clean_alive_ = true;
  OutQueue todo_out_{7};
  std::string todo_in_;
  bool todo_alive_ = true;

  std::vector<Bouncer> bouncers_;
  std::map<pid_t, uint64_t> children_;
  std::deque<uint64_t> bounce_wait_;
  std::unordered_map<uint64_t, int> bounce_status_;  // id -> bouncer index state

  SignalPipe sig_;
  bool exitasap_ = false;
  int exitcode_ = 0;
  Fd sendmutex_;

  void publish(time_t now);
  multi::Shm shm_;
  multi::QueueSlot* slot_ = nullptr;
  uint64_t delivered_ = 0;

  std::vector<uint64_t> cleanup_ids_;
  size_t cleanup_pos_ = 0;
  time_t next_cleanup_ = 0;
};

}  // namespace qf::send

#endif
