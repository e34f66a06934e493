// ISC license.
#include "sys/groupsync.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <functional>
#include <mutex>
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
//
// The helpers are made once, at the first batch that needs them, and wait for
// the next batch: a thread made and joined per batch cost todo-proc more than
// the fsyncs it issued. A batch of one step runs on the caller alone.
constexpr size_t kSyncThreads = 8;

class Helpers {
 public:
  // Leaked on purpose: helpers wait on it until the process exits.
  static Helpers& get() {
    static Helpers* h = new Helpers;
    return *h;
  }

  int run(size_t n, std::function<bool(size_t)> const& step) {
    std::unique_lock<std::mutex> lk(m_);
    // A child of fork has none of its parent's helpers: it makes its own.
    // (todo-proc, the one user, never forks.)
    pid_t self = ::getpid();
    if (self != owner_) {
      owner_ = self;
      threads_ = 0;
    }
    size_t want = (n < kSyncThreads ? n : kSyncThreads) - 1;  // helpers besides the caller
    while (threads_ < want) {
      try {
        // It takes a seat from the next generation on, this batch's included.
        std::thread(&Helpers::loop, this, generation_).detach();
        threads_++;
      } catch (...) {
        break;  // no thread: fewer helpers, the same steps
      }
    }
    if (want > threads_) want = threads_;
    step_ = &step;
    n_ = n;
    next_.store(0);
    err_.store(0);
    seats_ = want;
    busy_ = want;
    generation_++;
    lk.unlock();
    if (want) go_.notify_all();
    work(step, n);
    lk.lock();
    done_.wait(lk, [&] { return busy_ == 0; });
    // Helpers that did not get a seat go back to sleep without touching the batch.
    seats_ = 0;
    step_ = nullptr;
    return err_.load();
  }

 private:
  void work(std::function<bool(size_t)> const& step, size_t n) {
    for (;;) {
      size_t i = next_.fetch_add(1);
      if (i >= n) return;
      if (!step(i)) {
        int e = errno, none = 0;
        err_.compare_exchange_strong(none, e ? e : EIO);
      }
    }
  }

  void loop(uint64_t seen) {
    std::unique_lock<std::mutex> lk(m_);
    for (;;) {
      go_.wait(lk, [&] { return generation_ != seen; });
      seen = generation_;
      if (seats_ == 0) continue;
      seats_--;
      auto const* step = step_;
      size_t n = n_;
      lk.unlock();
      work(*step, n);
      lk.lock();
      if (--busy_ == 0) done_.notify_one();
    }
  }

  std::mutex m_;
  std::condition_variable go_, done_;
  pid_t owner_ = 0;
  size_t threads_ = 0;
  uint64_t generation_ = 0;
  size_t seats_ = 0, busy_ = 0;
  std::function<bool(size_t)> const* step_ = nullptr;
  size_t n_ = 0;
  std::atomic<size_t> next_{0};
  std::atomic<int> err_{0};
};

template <class Step>
int in_parallel(size_t n, Step step) {
  return run_parallel(n, std::function<bool(size_t)>(step));
}

}  // namespace

int run_parallel(size_t n, std::function<bool(size_t)> const& step) {
  if (n == 0) return 0;
  if (n == 1) return step(0) ? 0 : (errno ? errno : EIO);
  return Helpers::get().run(n, step);
}

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
