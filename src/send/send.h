// ISC license.
// qmail-send: the shell around the scheduler core (core.h) for one queue.
// It owns the fds, reads and writes the queue's files for the core (Port),
// feeds it the spawners' reports, todo-proc's records, signals and the time,
// finishes messages (bounce child, qmail-clean) and sweeps leftovers. Every
// scheduling decision is the core's. See qmail-send(8).
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
#include <unordered_set>
#include <vector>

#include "addr/rewrite.h"
#include "multi/ipc.h"
#include "proto/spawn.h"
#include "queue/layout.h"
#include "send/bounce.h"
#include "send/core.h"
#include "send/log.h"
#include "sys/fd.h"
#include "sys/loop.h"

namespace qf::send {

class Send final : private Port {
 public:
  explicit Send(queue::Layout q);
  ~Send() override;
  /// Runs until SIGTERM (exit 0 once in-flight work is done) or a lost
  /// connection (111). Start-up failures log "alert: cannot start: ..." and return 111.
  int run();

  /// Seconds before retrying after a system call failure (qmail's SLEEP_SYSFAIL).
  static constexpr time_t kSysfail = 123;
  /// Seconds between sweeps of crash leftovers in mess/ (qmail's SLEEP_CLEANUP).
  static constexpr time_t kCleanupInterval = 76431;
  /// Channel files kept open for the done marks; past this, each mark opens the file.
  static constexpr size_t kMaxOpenFiles = 2000;

 private:
  struct Bouncer {
    uint64_t id;
    Fd pipe;
    std::string out;
  };

  // Port
  LoadStatus load(uint64_t id, Channel c, uint64_t offset, size_t max, Loaded* out,
                  std::string* why) override;
  void deliver(Channel c, unsigned slot, uint64_t id, std::string const& sender,
               std::vector<std::string> const& rcpts) override;
  void mark_done(uint64_t id, Channel c, uint64_t offset) override;
  bool bounce_record(uint64_t id, std::string_view rcpt, std::string_view text) override;
  void defer_status(uint64_t id, Channel c, time_t now,
                    std::vector<std::pair<std::string, std::string>> const& rcpts) override;
  void deferred(uint64_t id, Channel c, time_t next) override;
  void finished(uint64_t id, Channel c) override;
  void corrupt(uint64_t id, std::string const& why) override;
  void log(std::string_view line) override { log_.line(line); }
  void poison(uint64_t id, std::string const& why) override;
  void delay_warning(uint64_t id, std::string const& sender, std::vector<Delayed> const& rcpts) override;

  void admin_request(std::string_view req, time_t now);
  void wake(uint64_t id, time_t now);
  void flush_sender(std::string_view sender, time_t now);

  bool startup();
  bool read_controls();
  void scan_info();
  void scan_status();
  void status();
  void close_file(uint64_t id, Channel c);

  void channel_done(uint64_t id, Channel c);
  void settle(time_t now);
  void finish(uint64_t id);
  void finish_after_bounce(uint64_t id);
  void start_bounce(uint64_t id, std::string const& sender);
  void bounce_output(size_t i);
  void reap_children();
  void run_timers(time_t now);
  void cleanup_step(time_t now);
  void todo_record(std::string_view rec, time_t now);
  void clean_answers(std::string_view bytes);
  bool can_exit() const;
  void lost(char const* what);
  void publish(time_t now);

  queue::Layout q_;
  Logger log_{0};
  addr::Rewriter rw_;
  BounceConfig bcfg_;
  std::string qident_;
  std::unique_ptr<Core> core_;
  unsigned slots_max_[kChannels] = {0, 0};
  unsigned last_status_[4] = {~0u, ~0u, ~0u, ~0u};
  std::unordered_map<uint64_t, Fd> files_;  // open channel files, by id*2+channel
  std::unordered_set<uint64_t> has_status_;  // messages with a defer/N (removed with them)
  bool no_defer_dir_ = false;  // a queue made before defer/: no status records

  std::multimap<time_t, uint64_t> done_timers_;  // messages to finish, by time
  std::multimap<time_t, uint64_t> clean_timers_;  // removals qmail-clean failed, to ask again

  OutQueue chan_out_[kChannels];
  std::unique_ptr<spawn::ReportReader> reports_[kChannels];
  bool spawn_alive_[kChannels] = {true, true};
  OutQueue clean_out_{5};
  std::deque<uint64_t> clean_wait_;
  // Removals of a loop turn, made together at its end (settle): channel files
  // of finished channels, then the info/N of finished messages. Each unlink
  // without a journal waits for the device (a discard), so one at a time they
  // took a third of qmail-send's time.
  std::vector<std::pair<uint64_t, Channel>> unlink_chan_;
  std::unordered_set<uint64_t> finishing_;  // their info/N goes at the end of this turn
  bool clean_alive_ = true;
  OutQueue todo_out_{7};
  std::string todo_in_;
  bool todo_alive_ = true;

  std::vector<Bouncer> bouncers_;
  std::map<pid_t, uint64_t> children_;
  pid_t queued_pid_ = 0;  // qmail-queued, from qmail-start (QMAILQUEUED_PID)
  std::map<pid_t, uint64_t> warners_;  // delay-warning children
  std::deque<uint64_t> bounce_wait_;

  SignalPipe sig_;
  bool exitasap_ = false;
  int exitcode_ = 0;
  Fd sendmutex_;

  multi::Shm shm_;
  multi::QueueSlot* slot_ = nullptr;
  time_t last_publish_ = 0;

  std::vector<uint64_t> cleanup_ids_;
  size_t cleanup_pos_ = 0;
  time_t next_cleanup_ = 0;
};

}  // namespace qf::send

#endif
