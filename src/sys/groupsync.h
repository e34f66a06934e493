// ISC license.
// Group commit: make many new files and their directory entries durable with
// as few journal commits as the file system allows. Writeback of every file is
// started first (sync_file_range), then every file and every touched directory
// (each once) is fsynced, all in one batch. The fsyncs run on up to 8 threads,
// joined before sync() returns: on a file system without a journal each fsync
// flushes the device, and flushes issued together are shared. The threads are
// made at the first batch and kept for the next.
#ifndef QF_SYS_GROUPSYNC_H
#define QF_SYS_GROUPSYNC_H

#include <functional>
#include <set>
#include <string>
#include <vector>

#include "sys/fd.h"

namespace qf {

/// Runs step(i) for every i in [0, n) on up to 8 threads, the caller's among
/// them (helpers made at the first call and kept); returns when all are done,
/// with the errno of the first step that returned false, 0 if none. One step
/// runs on the caller alone.
int run_parallel(size_t n, std::function<bool(size_t)> const& step);

/// Writes out the data of every file in fds and waits for it (sync_file_range:
/// the writes of all are started first, then each is waited for), without an
/// fsync. (*errs)[i] is the errno of fds[i]'s failure, 0 if none.
void write_out(std::vector<int> const& fds, std::vector<int>* errs);

class GroupSync {
 public:
  /// Takes ownership of fd, a file written but not yet synced.
  void add_file(Fd fd) { files_.push_back(std::move(fd)); }
  /// A directory whose new entries must become durable.
  void add_dir(std::string dir) { dirs_.insert(std::move(dir)); }
  bool empty() const { return files_.empty() && dirs_.empty(); }
  /// Syncs everything added; closes the files. False with errno on the first failure
  /// (the rest are still attempted).
  bool sync();
  /// Writes out the data of every file added and waits for it (sync_file_range),
  /// without an fsync: nothing is durable yet. On a file system whose journal
  /// orders data before later changes (journal_orders_data), the commit that
  /// holds any change made after it holds the files' sizes and entries too.
  /// Closes the files and forgets the directories. False with errno on the
  /// first failure (the rest are still attempted).
  bool write_out();

 private:
  std::vector<Fd> files_;
  std::set<std::string> dirs_;
};

}  // namespace qf

#endif
