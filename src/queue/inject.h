// ISC license.
// The commit protocol of one message into one queue (qmail's S1 -> S4):
//
//   create_message:  pid/P.T.Q (O_EXCL) -> link to mess/S/N (N = its inode) -> unlink pid
//   (caller writes the message to mess_fd())
//   sync_message:    fsync mess
//   create_envelope: intd/N (O_EXCL)
//   (caller writes the envelope to intd_fd())
//   commit:          fsync intd, fsync mess/S, link intd/N -> todo/N, fsync todo dir
//
// Nothing is deliverable before commit() returns true; after it nothing may be
// lost. An Injection destroyed before commit removes everything it created, so a
// failure at any step leaves the queue as it was. Until commit() succeeds it
// holds an exclusive flock on the message, which tells sweepers the file is
// in use and todo-proc that todo/N is not committed yet: todo-proc leaves a
// todo/N alone while its message is locked, so when the fsync of the todo/
// directory fails, commit() can remove todo/N again before anyone acted on it.
// The lock is released when commit() succeeds (or the process ends: a crash
// after the todo/ link leaves a message that is queued, qmail's rule).
#ifndef QF_QUEUE_INJECT_H
#define QF_QUEUE_INJECT_H

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "queue/layout.h"
#include "sys/fd.h"

namespace qf::queue {

class Injection {
 public:
  explicit Injection(Layout q) : q_(std::move(q)) {}
  ~Injection() { abort(); }
  Injection(Injection const&) = delete;
  Injection& operator=(Injection const&) = delete;

  /// S1 -> S2. On false errno is set and failed_in_pid() tells whether the pid/
  /// file (true) or the mess/ link (false) failed.
  bool create_message(pid_t pid, uint64_t now);
  bool failed_in_pid() const { return failed_in_pid_; }

  uint64_t id() const { return id_; }
  int mess_fd() const { return mess_.get(); }
  Layout const& layout() const { return q_; }

  /// fsyncs the message data.
  bool sync_message();
  /// S2 -> S3: creates intd/N.
  bool create_envelope();
  int intd_fd() const { return intd_.get(); }

  /// Where commit() failed.
  enum class Stage { none, sync_intd, sync_mess_dir, link_todo, sync_todo_dir };

  /// S3 -> S4. After true the message is committed and durable. On false the
  /// queue is rolled back (errno set) and failed_stage() tells which step failed.
  bool commit();
  Stage failed_stage() const { return stage_; }
  bool committed() const { return committed_; }

  /// Removes what this injection created (intd, mess); harmless to repeat.
  void abort();

  /// commit() for several injections at once (qmail-queued's turn), in the
  /// same order of durability for each: the data of mess/N and intd/N and
  /// the mess/ directory entries, then the todo/ links, then their
  /// directories. The fsyncs of each step are issued together on helper
  /// threads (run_parallel) and each directory is synced once. After it,
  /// each injection is committed() or rolled back with failed_stage() set and
  /// its errno in (*errs)[i].
  ///
  /// On a file system whose journal orders data before links
  /// (journal_orders_data: ext4 data=ordered, xfs) the files' data is
  /// written out first (sync_file_range, which waits for the writes but
  /// commits nothing), then the todo/ links are made, and then one fsync,
  /// of the directory of the last link, makes the whole turn durable: the
  /// journal commits in order, so that commit holds every change before
  /// it. One journal commit and one flush instead of two commits and a
  /// flush per late fsync, and a crash can still never leave a todo/ link
  /// to a short file. The messages stay locked until it has succeeded; if
  /// it fails, every todo/ link of the turn is removed as before.
  static void commit_together(std::vector<Injection*> const& v, std::vector<int>* errs);

 private:
  bool create_message_unnamed();
  static bool ordered_journal(std::vector<Injection*> const& v);

  Layout q_;
  uint64_t id_ = 0;
  Fd mess_;
  Fd intd_;
  bool made_mess_ = false;
  bool made_intd_ = false;
  bool committed_ = false;
  bool failed_in_pid_ = false;
  Stage stage_ = Stage::none;
};

}  // namespace qf::queue

#endif
