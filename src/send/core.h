// ISC license.
// qmail-send's delivery scheduler, pure: no clock (every event carries the
// time), no system call, no fd, no environment. Events go in (a message is
// queued, a spawner reports, a trigger, a turn of the loop); what the
// scheduler decides goes out through a Port, which in qmail-send reads and
// writes the queue and the spawners' pipes (send.h) and in the tests is a
// simulation (tests/send/sim.h). See qmail-send(8), SCHEDULING.
//
// The strategies are Postfix's queue manager's (nqmgr), with its defaults:
//   leaky bucket   at most message_active_limit jobs and a recipient budget in
//                  memory; the rest waits on disk, in two queues per channel:
//                  new mail and deferred mail, taken in turn (fairness);
//   destinations   one per channel and next hop (the smtproutes route or the
//                  domain; for local mail the mailbox owner), each with a
//                  concurrency window: slow start, +/- feedback, a failed-cohort
//                  limit; a destination that fails a cohort is dead for its
//                  backoff and its mail waits without taking a slot;
//   jobs           one per (message, channel), in a FIFO that preemption
//                  reorders (slot cost, loan, discount: qmgr_job.c);
//   backoff        exponential in the message's age between the minimal and
//                  maximal backoff, with jitter; deferred mail is looked at every
//                  queue_run_delay, and at once by triggers and ALRM.
// Every decision costs O(log n) in queued recipients (heaps and ordered sets;
// a message with many destinations adds a walk over its own destinations).
#ifndef QF_SEND_CORE_H
#define QF_SEND_CORE_H

#include <cstdint>
#include <ctime>
#include <deque>
#include <map>
#include <memory>
#include <queue>
#include <random>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "addr/routes.h"
#include "proto/spawn.h"

namespace qf::send {

enum Channel : int { kLocal = 0, kRemote = 1 };
inline constexpr int kChannels = 2;
/// "local" or "remote": the prefix of the channel's control files.
char const* channel_name(Channel c);

/// A concurrency feedback: a constant, or value/concurrency (Postfix's forms
/// "x", "a/b", "x/concurrency").
struct Feedback {
  double value = 1;
  bool per_concurrency = false;
  double at(int window) const { return per_concurrency ? value / (window > 0 ? window : 1) : value; }
  bool operator==(Feedback const&) const = default;
  /// False (and *f unchanged) when s is not one of the forms or outside 0..1.
  static bool parse(std::string_view s, Feedback* f);
};

/// Per channel ("transport"): qmail's limit and Postfix's per-transport knobs.
struct TransportSettings {
  unsigned concurrency = 0;            ///< concurrencylocal / concurrencyremote
  unsigned dest_concurrency_limit = 20;   ///< 0: no limit but the channel's
  unsigned dest_recipient_limit = 50;     ///< recipients per delivery
  unsigned initial_concurrency = 5;
  Feedback positive, negative;
  double failed_cohort_limit = 1;     ///< 0: a destination never dies
  size_t recipient_limit = 20000;       ///< recipients in memory
  size_t extra_recipient_limit = 1000;  ///< more of them, for preempting jobs
  unsigned slot_cost = 5, slot_loan = 3, slot_discount = 50, minimum_slots = 3;
};

/// A destination whose limits differ from its channel's (destinationlimits).
struct DestOverride {
  std::string pattern;  ///< destination name, ".suffix", or "" for every one
  unsigned concurrency_limit = 0;  ///< 0: the channel's
  unsigned recipient_limit = 0;    ///< 0: the channel's
};

struct Settings {
  TransportSettings t[kChannels];
  size_t message_active_limit = 20000;
  size_t message_recipient_limit = 20000;
  size_t message_recipient_minimum = 10;
  time_t minimal_backoff = 300, maximal_backoff = 4000, queue_run_delay = 300;
  time_t maximal_queue_lifetime = 5 * 86400, bounce_queue_lifetime = 5 * 86400;
  bool feedback_debug = false;
  /// delay_warning_time: a deferred message this old gets one delay warning
  /// (0: never, Postfix's default).
  time_t delay_warning_time = 0;
  /// poisonlimit: crashes of a message's delivery process before it is held (0: never).
  unsigned poison_limit = 3;
  /// control/paused: "local", "remote" (a whole channel) or "channel:destination"
  /// (a destination name, or ".suffix" for every name under it).
  std::vector<std::string> paused;
  addr::Routes routes;                 ///< smtproutes: the remote next hops
  std::vector<DestOverride> overrides;
  /// Postfix 3.7's defaults, qmail's concurrencylocal 10 and concurrencyremote
  /// 100 (Postfix's default_process_limit); a local destination has no limit
  /// of its own (Postfix's is 2).
  static Settings defaults();
};

/// A recipient as read from a channel file: the address and the offset of
/// its record (where its T becomes D once it is done).
struct QueuedRcpt {
  std::string addr;
  uint64_t offset = 0;
};

/// What Port::load reads.
struct Loaded {
  std::string sender;
  time_t birth = 0;  ///< the message's arrival (info/N's mtime); 0 when unknown
  std::vector<QueuedRcpt> rcpts;  ///< pending recipients, in file order, at most max
  uint64_t next_offset = 0;       ///< where the next read starts
  size_t unread = 0;              ///< pending recipients after these
  bool warned = false;            ///< its delay warning was sent
};

/// A birth of 1 (info/N's mtime set to 1 by qmail-qsuper -e) marks a message
/// expired by the administrator: every pending recipient bounces at once,
/// without a delivery attempt, as past its lifetime.
inline constexpr time_t kExpiredBirth = 1;

/// A recipient deferred, for the delay warning.
struct Delayed {
  std::string addr;
  std::string text;
};

enum class LoadStatus {
  ok,       ///< *out is filled
  gone,     ///< the channel file does not exist (finished meanwhile)
  trouble,  ///< a system call failed; *why says which
  corrupt,  ///< a file of the message cannot be parsed or its message is missing
  held,     ///< hold/N exists: the message is not tried until released
};

/// The scheduler's hands. Every call is synchronous.
class Port {
 public:
  virtual ~Port() = default;
  /// Reads up to max pending recipients of (id, c) from offset (0: the first
  /// read, which also fills sender and birth).
  virtual LoadStatus load(uint64_t id, Channel c, uint64_t offset, size_t max, Loaded* out,
                          std::string* why) = 0;
  /// Hands one delivery to the channel's spawner in slot.
  virtual void deliver(Channel c, unsigned slot, uint64_t id, std::string const& sender,
                       std::vector<std::string> const& rcpts) = 0;
  /// The recipient at offset is done: its T becomes D.
  virtual void mark_done(uint64_t id, Channel c, uint64_t offset) = 0;
  /// Appends a failure record to bounce/N. False (and an alert logged) when it
  /// could not: the recipient then stays pending.
  virtual bool bounce_record(uint64_t id, std::string_view rcpt, std::string_view text) = 0;
  /// Recipients of (id, c) that an attempt at now deferred, each with its
  /// report (address, text): their last status, for qmail-qread (defer/N).
  /// One call per delivery report or suspended recipient; none on success.
  virtual void defer_status(uint64_t id, Channel c, time_t now,
                            std::vector<std::pair<std::string, std::string>> const& rcpts) {
    (void)id, (void)c, (void)now, (void)rcpts;
  }
  /// The job is closed with recipients pending: tried again at next.
  virtual void deferred(uint64_t id, Channel c, time_t next) = 0;
  /// The job is closed with no recipient pending (or its file is gone).
  virtual void finished(uint64_t id, Channel c) = 0;
  /// The message cannot be read: move its files aside (one log line).
  virtual void corrupt(uint64_t id, std::string const& why) = 0;
  virtual void log(std::string_view line) = 0;
  /// The message's delivery process crashed poison_limit times: put it on
  /// hold (hold/N with the reason) and log one line. The core holds it.
  virtual void poison(uint64_t id, std::string const& why) = 0;
  /// The message (its sender's mail, deferred past delay_warning_time) gets
  /// its one delay warning listing these recipients; the shell records that
  /// it was sent, so that Loaded::warned is set from then on.
  virtual void delay_warning(uint64_t id, std::string const& sender, std::vector<Delayed> const& rcpts) = 0;
};

/// Figures for qmail-send's shared-memory slot and for the tests.
struct Stats {
  unsigned used[kChannels] = {0, 0};
  unsigned concurrency[kChannels] = {0, 0};
  size_t queued = 0;       ///< jobs waiting on disk (new, due, deferred)
  size_t active = 0;       ///< jobs in memory
  size_t rcpts_in_core = 0;
  size_t backlog = 0;      ///< entries waiting in memory for a slot
  size_t dests = 0, dead = 0;
  uint64_t delivered = 0;  ///< recipients reported
  /// Results per channel since the start: [c][0] delivered (K), [1] deferred
  /// (Z, a suspended recipient included), [2] failed (D).
  uint64_t results[kChannels][3] = {{0, 0, 0}, {0, 0, 0}};
};

class Core {
 public:
  /// did_suffix is appended to delivery numbers (".QIDENT"); seed drives the jitter.
  Core(Settings s, Port* port, std::string did_suffix = "", uint64_t seed = 1);
  ~Core();
  Core(Core const&) = delete;
  Core& operator=(Core const&) = delete;

  /// New settings (HUP). Limits apply to what is decided from now on.
  void configure(Settings s);
  Settings const& settings() const { return cfg_; }
  /// The spawner's slot count: the ceiling of the channel's concurrency.
  void set_slots(Channel c, unsigned n);

  /// A message pre-processed by todo-proc has recipients on channel c.
  void enqueue_new(uint64_t id, Channel c, time_t now);
  /// A channel file found at start-up, due at its mtime.
  void enqueue_deferred(uint64_t id, Channel c, time_t due);

  /// Recipients the delivery in slot carries (0: none outstanding).
  size_t expected(Channel c, unsigned slot) const;
  /// A spawner's report for slot; results is in the order of the delivery.
  void report(Channel c, unsigned slot, spawn::Verdict v, std::vector<spawn::Result>& results,
              time_t now);
  /// Trigger bytes (Postfix's): A ignore retry times at the next deferred
  /// scan, F revive every dead destination, D scan deferred mail now; A and F
  /// take effect before D. Other bytes are todo-proc's business.
  void trigger(std::string_view requests, time_t now);
  /// SIGALRM: A F D.
  void alarm(time_t now) { trigger("AFD", now); }
  /// -qR domain: revives the remote destination of domain and wakes the mail
  /// that waits on it. False when qmail-send knows no such destination.
  bool flush_destination(std::string_view domain, time_t now);
  /// qmail-qsuper -h (or a poison): the message leaves the active set at once;
  /// its entries not yet handed out stay pending on disk, deliveries in flight
  /// finish. Its jobs are parked until release(); a held message found by
  /// load() is parked too.
  void hold(uint64_t id, time_t now);
  /// A parked message whose hold/N is gone is tried now. False when none of
  /// its jobs was parked.
  bool release(uint64_t id, time_t now);
  /// Parked jobs (for a "release every one whose hold is gone" request).
  std::vector<uint64_t> held_ids() const;
  /// Jobs in memory (for a "hold every one that has hold/N" request).
  std::vector<uint64_t> active_ids() const;
  /// qmail-qsuper -r, sendmail -qS: (id, c), waiting in the deferred heap at
  /// due, is tried now. An unknown due only costs one early retry.
  void wake_message(uint64_t id, Channel c, time_t due, time_t now);
  /// qmail-qsuper -e on a message in memory: every recipient not handed out
  /// bounces now as past its lifetime; deliveries in flight finish (a
  /// temporary failure bounces).
  void expire(uint64_t id, time_t now);
  /// One turn: timers, intake from disk, deliveries into free slots.
  void step(time_t now);
  /// When step() has something to do again (now: at once).
  time_t next_wakeup(time_t now) const;
  /// No new job, no new delivery (TERM); reports are still taken.
  void stop() { stopping_ = true; }
  /// A delivery is in flight.
  bool busy() const;
  /// (id, c) is in memory.
  bool active(uint64_t id, Channel c) const;
  /// Figures of the whole state; costs a walk over the destinations.
  Stats stats() const;
  /// Deliveries in flight on c, and c's limit: cheap, for the status line.
  unsigned in_flight(Channel c) const;
  unsigned concurrency(Channel c) const;

  struct Dest;
  struct Job;
  struct Transport;

 private:
  using Key = uint64_t;  // id * 2 + channel
  static Key key(uint64_t id, Channel c) { return id * 2 + uint64_t(c); }

  void intake(time_t now);
  void load_job(Transport& t, uint64_t id, time_t now);
  void refill(Job& j, time_t now);
  size_t budget(Transport& t, Job const* j) const;
  void assign(Job& j, std::vector<QueuedRcpt>&& rcpts, time_t now);
  Dest& dest_for(Transport& t, std::string const& rcpt);
  Dest& dest_named(Transport& t, std::string const& dkey, std::string const& name);
  void apply_limits(Transport& t, Dest& d);
  bool dispatch(Transport& t, time_t now);
  void suspend(Job& j, uint32_t r, Dest& d, time_t now);
  void finish_rcpt(Job& j, uint32_t r);
  void maybe_close(Job& j, time_t now);
  void close_job(Job& j, time_t now);
  void drop_message(uint64_t id);
  void defer_todo(Dest& d, time_t now);
  void park(Transport& t, uint64_t id, time_t now);
  void pull_entries(Job& j, bool bounce, time_t now);
  void note_delay(Job& j, std::string const& addr, std::string const& text);

  // destinations
  bool ready(Dest const& d) const;
  void refresh(Dest& d);
  void positive(Dest& d, time_t now);
  void negative(Dest& d, std::string const& why, time_t now);
  void kill(Dest& d, std::string const& why, time_t now);
  void revive(Dest& d, char const* why, bool probe, time_t now);
  void wake(Dest& d);
  void maybe_drop(Dest& d);
  void debug(std::string const& line);

  // the job list (qmgr_job.c)
  void link(Transport& t, Job& j);
  void unlink(Transport& t, Job& j);
  void retire(Transport& t, Job& j);
  void pop(Transport& t, Job& j);
  void relabel(Transport& t, Job& j, double label);
  Job* preempt(Transport& t, Job& c, time_t now);
  Job* candidate(Transport& t, Job& c, time_t now);
  bool selectable(Job const& j) const;
  long max_entries(Job const& j) const;

  void scan_deferred(time_t now, bool all);
  time_t backoff(time_t age);
  time_t lifetime(std::string const& sender) const;
  std::string did_text();

  Settings cfg_;
  Port* port_;
  std::string did_suffix_;
  uint64_t next_did_ = 1;
  std::mt19937_64 rng_;
  std::unique_ptr<Transport> t_[kChannels];
  std::unordered_map<Key, std::unique_ptr<Job>> jobs_;
  size_t rcpts_in_core_ = 0;
  uint64_t delivered_ = 0;
  uint64_t results_[kChannels][3] = {{0, 0, 0}, {0, 0, 0}};
  void count_result(Channel c, char status) {
    results_[c][status == 'K' ? 0 : status == 'D' ? 2 : 1]++;
  }
  time_t next_scan_ = 0;
  bool scan_all_ = false;
  bool stopping_ = false;
  // deferred-heap entries made obsolete by a wake-up, as (key, due)
  std::unordered_multimap<Key, time_t> stale_;
  // dead destinations by the end of their death
  std::multimap<time_t, std::pair<int, std::string>> dead_timers_;
  // parked (held) jobs, with the due of their recheck entry in the deferred heap
  std::unordered_map<Key, time_t> held_;
  // crashes of each message's delivery process (poison), while it lives
  std::unordered_map<uint64_t, unsigned> crashes_;
  // messages warned while in memory (Loaded::warned is read at load)
  std::set<uint64_t> warned_;
  time_t last_now_ = 0;
};

/// Whether a destination of channel c named name is paused by one of patterns
/// (Settings::paused).
bool paused_by(std::vector<std::string> const& patterns, Channel c, std::string_view name);

/// The delay-warning decision: a message born at birth, deferred at now, not
/// warned yet, gets its warning once delay_warning_time has passed (0: never).
/// An expired message (kExpiredBirth) or one of unknown birth gets none.
bool delay_warning_due(time_t birth, time_t now, time_t delay_warning_time, bool warned);

/// Splits a channel file into its pending recipients (records T; D are
/// done), each with its offset. Returns false when the file is damaged
/// (unknown record type, no final NUL).
bool parse_channel_file(std::string_view data, uint64_t base, std::vector<QueuedRcpt>* pending);

}  // namespace qf::send

#endif
