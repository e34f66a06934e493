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

 private:
  std::vector<Fd> files_;
  std::set<std::string> dirs_;
};

}  // namespace qf

#endif
