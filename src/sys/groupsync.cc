// ISC license.
#include "sys/groupsync.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <thread>
#include <vector>

#include "sys/fs.h"

namespace qf {

namespace {

// Runs step(i) for i in [0, n) on up to kSyncThreads threads (the caller's
// among them) and returns the errno of the first failure, 0 if none. A file
// system without a journal flushes the device for each fsync: fsyncs issued
// together share flushes, one after the other each pays one. Every step runs
// whatever the others do, and all are done when it returns.
constexpr size_t kSyncThreads = 8;

template <class Step>
int in_parallel(size_t n, Step step) {
  std::atomic<size_t> next{0};
  std::atomic<int> first_err{0};
  auto work = [&] {
    for (;;) {
      size_t i = next.fetch_add(1);
      if (i >= n) return;
      if (!step(i)) {
        int e = errno, none = 0;
        first_err.compare_exchange_strong(none, e ? e : EIO);
      }
    }
  };
  std::vector<std::thread> helpers;
  size_t want = n < kSyncThreads ? n : kSyncThreads;
  for (size_t t = 1; t < want; t++) {
    try {
      helpers.emplace_back(work);
    } catch (...) {
      break;  // no thread: fewer helpers, the same steps
    }
  }
  work();
  for (auto& h : helpers) h.join();
  return first_err.load();
}

}  // namespace

bool GroupSync::sync() {
  for (auto& f : files_) ::sync_file_range(f.get(), 0, 0, SYNC_FILE_RANGE_WRITE);
  int err = in_parallel(files_.size(), [&](size_t i) { return ::fsync(files_[i].get()) == 0; });
  files_.clear();
  std::vector<std::string const*> dirs;
  for (auto const& d : dirs_) dirs.push_back(&d);
  int derr = in_parallel(dirs.size(), [&](size_t i) { return fsync_dir(*dirs[i]); });
  dirs_.clear();
  if (!err) err = derr;
  if (err) errno = err;
  return !err;
}

}  // namespace qf
