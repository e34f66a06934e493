// ISC license.
// qmail-qsuper(8): Postfix's postsuper for qfleet queues. Each action changes
// the queue's files in an order that leaves every message, at every step,
// either as it was, held, or gone (a crash between two steps strands
// nothing: the message stays visible and held, and the action can be run
// again), then tells qmail-send through lock/trigger (proto/todo.h, requests
// H U Q E P) so that it acts now; a lost note is repaired by qmail-send's own
// rechecks. When qmail-send is not running, lock/sendmutex is held for the
// whole run so that it cannot start in between.
#ifndef QF_QUEUE_ADMIN_H
#define QF_QUEUE_ADMIN_H

#include <regex.h>
#include <sys/types.h>

#include <cstdint>
#include <ctime>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "queue/layout.h"
#include "sys/fd.h"

namespace qf::queue {

enum class Action { hold, release, requeue, remove, expire };
char const* action_verb(Action a, bool dry);  ///< "held", "would hold", ...

/// Which messages: ids, every one, and filters that must all match.
struct Selector {
  bool all = false;
  std::vector<uint64_t> ids;
  std::optional<std::string> rcpt_domain;  ///< a pending recipient in this domain
  std::optional<std::string> sender;       ///< "" for <>
  std::optional<time_t> older, younger;    ///< age of mess/N, seconds
  std::optional<uint64_t> larger, smaller; ///< size of mess/N, bytes
  std::optional<unsigned> queue;           ///< N of queueN
  std::shared_ptr<regex_t> header;         ///< a header line matches (reads mess/N)
  bool needs_envelope() const { return rcpt_domain || sender; }
};

/// What a message looks like to the selectors.
struct MessageView {
  uint64_t id = 0;
  bool in_todo = false;       ///< committed, not yet pre-processed
  bool held = false;
  time_t arrival = 0;         ///< mess/N's mtime
  uint64_t size = 0;
  std::string sender;
  std::vector<std::string> rcpts;  ///< pending
};

/// Reads what sel needs of message id. False when the message is gone.
bool view_message(Layout const& q, uint64_t id, Selector const& sel, MessageView* out);
/// Whether m (queue number qn) matches sel's filters (not its ids).
bool matches(Selector const& sel, unsigned qn, MessageView const& m, Layout const& q, time_t now);

/// One queue under qmail-qsuper.
class AdminQueue {
 public:
  explicit AdminQueue(Layout q, unsigned number) : q_(std::move(q)), number_(number) {}
  Layout const& layout() const { return q_; }
  unsigned number() const { return number_; }
  std::string name() const;

  /// Takes lock/sendmutex when qmail-send does not hold it. False with errno
  /// when the file cannot be opened.
  bool lock();
  bool send_running() const { return send_running_; }

  /// Every message of the queue (info/ and todo/), sorted.
  std::vector<uint64_t> messages(bool* ok) const;

  /// Applies a to message id. *why explains a failure or a skip. Returns 1
  /// changed, 0 nothing to change (skip), -1 failure. Batched: call finish()
  /// after the last one.
  int apply(Action a, MessageView const& m, time_t now, std::string* why);
  /// fsyncs the directories the batch touched, removes the holds of deleted
  /// messages, and tells qmail-send. False when a sync failed.
  bool finish(Action a);

 private:
  bool sync_dirs();
  void note(std::string const& req);
  void flush_notes();
  Layout q_;
  unsigned number_;
  Fd mutex_;
  bool send_running_ = true;
  std::vector<std::string> dirty_;       // directories to fsync
  std::vector<uint64_t> changed_;        // ids, for the notes
  std::vector<uint64_t> deleted_;        // holds to remove at the end
  std::string notes_;
};

/// The number of "queueN" (0 when the name is not one).
unsigned queue_number(std::string const& dir);

/// control/paused: the patterns (qmail-control(5)). pause adds, resume
/// removes; a bare domain means "remote:domain". False with errno.
bool paused_read(std::vector<std::string>* out);
bool paused_change(std::string const& dest, bool pause, bool* changed);
/// "remote:dom" from "dom"; "" when dest is not a valid pattern.
std::string paused_pattern(std::string const& dest);

/// Tells qmail-send of q through lock/trigger: writes bytes (whole requests of
/// at most PIPE_BUF bytes each, waiting up to a few seconds for room). False
/// when qmail-send does not read it (not running) or it stays full.
bool send_notes(Layout const& q, std::string const& bytes);

}  // namespace qf::queue

#endif
