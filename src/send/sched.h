// ISC license.
// qmail-send's scheduling, pure: no I/O, time passed in. The retry policy sits
// behind one interface so the Postfix-class scheduler can replace it locally.
#ifndef QF_SEND_SCHED_H
#define QF_SEND_SCHED_H

#include <cstdint>
#include <ctime>
#include <queue>
#include <string>
#include <vector>

namespace qf::send {

enum Channel : int { kLocal = 0, kRemote = 1 };
inline constexpr int kChannels = 2;

/// When a (message, channel) whose attempt left deferred recipients is tried next.
class RetryPolicy {
 public:
  virtual ~RetryPolicy() = default;
  virtual time_t next(Channel c, time_t birth, time_t now) const = 0;
};

/// qmail's schedule: birth + (floor(sqrt(now - birth)) + skip)^2, skip 10 for
/// local and 20 for remote: attempts near 100 n^2 and 400 n^2 seconds after birth.
class QmailRetry final : public RetryPolicy {
 public:
  time_t next(Channel c, time_t birth, time_t now) const override;
};

/// floor(sqrt(x)).
uint64_t isqrt(uint64_t x);

/// Messages waiting on one channel, by due time (a min-heap).
class DueQueue {
 public:
  void push(uint64_t id, time_t due) { heap_.push({due, id}); }
  bool empty() const { return heap_.empty(); }
  size_t size() const { return heap_.size(); }
  /// Due time of the earliest entry (only when not empty).
  time_t next_due() const { return heap_.top().due; }
  uint64_t pop() {
    uint64_t id = heap_.top().id;
    heap_.pop();
    return id;
  }
  /// Makes every entry due at now (SIGALRM).
  void all_due(time_t now);
  /// Every entry with its due time, emptying the queue.
  std::vector<std::pair<uint64_t, time_t>> drain();

 private:
  struct E {
    time_t due;
    uint64_t id;
    bool operator>(E const& o) const { return due > o.due || (due == o.due && id > o.id); }
  };
  std::priority_queue<E, std::vector<E>, std::greater<E>> heap_;
};

/// One recipient of an open job: its address and the offset of its record in
/// the channel file (where the T becomes D once it is done).
struct Rcpt {
  std::string addr;
  uint64_t offset = 0;
};

/// Splits a channel file into its pending recipients. Returns false when the
/// file is damaged (unknown record type, no final NUL).
bool parse_channel_file(std::string_view data, std::vector<Rcpt>* pending);

/// The domain of an address, lower-cased ("" when there is no '@').
std::string domain_of(std::string_view addr);

/// Orders recipients so that those of one domain are adjacent (stable).
void group_by_domain(std::vector<Rcpt>* r);

/// How many recipients starting at from form the next delivery: 1 on the local
/// channel, else the run of one domain, at most limit.
size_t next_batch(std::vector<Rcpt> const& r, size_t from, Channel c, size_t limit);

/// qmail's VERP: sender owner-@host-@[] becomes owner-box=rcpthost@host for
/// recipient box@rcpthost; any other sender is unchanged.
std::string verp_sender(std::string_view sender, std::string_view rcpt);

}  // namespace qf::send

#endif
