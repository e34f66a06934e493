// ISC license.
// The multi-queue IPC of one qfleet instance (DESIGN.md §4, multi-queue(7)):
//
//   shared memory  /qfleet1.<h>        one Segment: a header and a slot per queue
//   message queue  /qfleet1.<h>.q<N>   new-message notes for queue N (8-byte ids)
//
// <h> is 16 hex digits of a hash of the real path of QUEUE_BASE, so two
// instances (or two test runs) never share an object; "1" is the name's
// version. Header::version (kVersion) is bumped whenever Segment changes, so
// that a reader never maps a segment of another layout. Everything here is a hint:
// a missing, stale or garbled segment or a full message queue never loses
// or strands mail (todo-proc rescans todo/ and qmail-queue falls back to
// lock/trigger). Readers bounds-check every value they use.
#ifndef QF_MULTI_IPC_H
#define QF_MULTI_IPC_H

#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <string>

namespace qf::multi {

inline constexpr unsigned kMaxQueues = 64;  ///< queue numbers 1..64 have slots
inline constexpr uint32_t kMagic = 0x71666c31;  // "qfl1"
inline constexpr uint32_t kVersion = 2;  // 2: QueueSlot::results

/// A queue's place in the life cycle, as qscheduler sets it.
enum class QState : uint32_t {
  absent = 0,    ///< no such queue
  starting = 1,  ///< created, daemons starting: not yet picked
  active = 2,    ///< picked by injectors
  draining = 3,  ///< never picked; removed once empty
  stopped = 4,   ///< daemons stopped (drained, or qscheduler exiting)
};
char const* state_name(QState s);

/// Per-queue figures. qmail-send writes the delivery fields, todo-proc the
/// todo field, qscheduler the state; everybody else only reads.
struct QueueSlot {
  std::atomic<uint32_t> state;
  std::atomic<uint32_t> send_pid;
  std::atomic<uint32_t> start_time;  ///< when qmail-send started (Unix seconds)
  std::atomic<uint32_t> heartbeat;   ///< qmail-send's last update
  std::atomic<uint32_t> lused, lmax, rused, rmax;
  std::atomic<uint32_t> todo;     ///< messages waiting for todo-proc
  std::atomic<uint32_t> queued;   ///< (message, channel) jobs waiting for their time
  std::atomic<uint32_t> backlog;  ///< recipients due but waiting for a free slot
  std::atomic<uint32_t> pad_;
  std::atomic<uint64_t> delivered;  ///< delivery results received, ever
  std::atomic<uint64_t> preprocessed;
  /// Recipient results since qmail-send started, per channel (0 local,
  /// 1 remote): [c][0] delivered, [c][1] deferred, [c][2] failed.
  std::atomic<uint64_t> results[2][3];
};

struct Header {
  uint32_t magic;
  uint32_t version;
  std::atomic<uint32_t> dynamic;  ///< 1: load-driven (qscheduler -d)
  std::atomic<uint32_t> sched_pid;
  std::atomic<uint32_t> start;    ///< first queue number
  std::atomic<uint32_t> count;    ///< queues numbered start..start+count-1 exist
  std::atomic<uint32_t> max_load;
  std::atomic<uint32_t> compat;  ///< 1: qmail-queue pulls lock/trigger as well (-c)
};

struct Segment {
  Header h;
  QueueSlot q[kMaxQueues];
};

/// The load of a queue in percent: the busier channel's share of its limit,
/// 100 * max(lused/lmax, rused/rmax), 100 when a slot waits for a free
/// delivery (backlog). 0 for a queue with no limits published.
unsigned load_of(QueueSlot const& s);

/// "/qfleet1.<16 hex>" for the queue base (its real path when it exists).
std::string ipc_prefix(std::string const& base);
std::string shm_name(std::string const& base);
std::string mq_name(std::string const& base, unsigned queue);

/// A mapping of the segment.
class Shm {
 public:
  Shm() = default;
  ~Shm();
  Shm(Shm const&) = delete;
  Shm& operator=(Shm const&) = delete;

  /// Maps an existing segment; false when absent, foreign (bad magic/version,
  /// owned by a user other than root or ourselves) or unreadable. writable: map read-write (qmail-send, todo-proc).
  bool attach(std::string const& base, bool writable);
  /// Creates it afresh (any stale or squatted object of that name is removed
  /// first, then O_EXCL), owned by uid:gid with mode. qscheduler only.
  bool create(std::string const& base, uid_t uid, gid_t gid, mode_t mode);
  /// Removes the segment name (qscheduler at exit).
  static void remove(std::string const& base);

  Segment* get() const { return seg_; }
  /// The slot of queue number n, or nullptr when n has none (0 or > kMaxQueues).
  QueueSlot* slot(unsigned n) const;

 private:
  Segment* seg_ = nullptr;
};

/// Sends note id to queue n's message queue without blocking; false when it
/// is absent or full (the caller falls back to lock/trigger).
bool notify(std::string const& base, unsigned n, uint64_t id);

}  // namespace qf::multi

#endif
