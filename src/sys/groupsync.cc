// ISC license.
#include "sys/groupsync.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <semaphore.h>
#include <unistd.h>

#include <atomic>
#include <functional>
#include <memory>
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
//
// Each helper sleeps on a semaphore of its own, and a batch posts exactly the
// helpers it seats: a batch of two wakes one thread, not all seven. (A shared
// condition variable either woke them all, or, with notify_one, lost a
// wake-up under glibc 2.36 and hung todo-proc.) The last helper to finish
// posts the caller's semaphore, once per batch.
constexpr size_t kSyncThreads = 8;

class Sem {
 public:
  Sem() { ::sem_init(&s_, 0, 0); }
  Sem(Sem const&) = delete;
  Sem& operator=(Sem const&) = delete;
  void post() { ::sem_post(&s_); }
  void wait() {
    while (::sem_wait(&s_) != 0 && errno == EINTR) {
    }
  }

 private:
  sem_t s_;
};

class Helpers {
 public:
  // One set per process. A child of fork has none of its parent's threads,
  // and its copies of their semaphores and of the batch mutex may be
  // mid-operation: a handler run in every child forgets the parent's set,
  // and the child's first batch makes one of its own. Leaked on purpose:
  // helpers wait on a set until the process exits.
  static Helpers& get() {
    static std::once_flag once;
    std::call_once(once, [] { ::pthread_atfork(nullptr, nullptr, [] { current_.store(nullptr); }); });
    Helpers* h = current_.load();
    if (h) return *h;
    auto* mine = new Helpers;
    if (current_.compare_exchange_strong(h, mine)) return *mine;
    delete mine;  // another thread's first batch made the set first
    return *h;
  }

  int run(size_t n, std::function<bool(size_t)> const& step) {
    std::lock_guard<std::mutex> lk(m_);  // one batch at a time
    size_t want = (n < kSyncThreads ? n : kSyncThreads) - 1;  // helpers besides the caller
    while (seats_.size() < want) {
      auto seat = std::make_unique<Sem>();
      try {
        std::thread(&Helpers::loop, this, seat.get()).detach();
      } catch (...) {
        break;  // no thread: fewer helpers, the same steps
      }
      seats_.push_back(std::move(seat));
    }
    if (want > seats_.size()) want = seats_.size();
    step_ = &step;
    n_ = n;
    next_.store(0);
    err_.store(0);
    busy_.store(want);
    for (size_t i = 0; i < want; i++) seats_[i]->post();  // sem_post publishes the batch
    work(step, n);
    if (want) done_.wait();
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

  void loop(Sem* seat) {
    for (;;) {
      seat->wait();
      work(*step_, n_);
      if (busy_.fetch_sub(1) == 1) done_.post();
    }
  }

  static std::atomic<Helpers*> current_;

  std::mutex m_;
  std::vector<std::unique_ptr<Sem>> seats_;
  Sem done_;
  std::function<bool(size_t)> const* step_ = nullptr;
  size_t n_ = 0;
  std::atomic<size_t> next_{0};
  std::atomic<size_t> busy_{0};
  std::atomic<int> err_{0};
};

std::atomic<Helpers*> Helpers::current_{nullptr};

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
  // The files and their directories in one batch: none of these fsyncs needs
  // another done first, and issued together they share the device's flushes
  // (one round instead of two on a file system without a journal).
  std::vector<std::string const*> dirs;
  for (auto const& d : dirs_) dirs.push_back(&d);
  size_t const nf = files_.size();
  int err = in_parallel(nf + dirs.size(), [&](size_t i) {
    return i < nf ? ::fsync(files_[i].get()) == 0 : fsync_dir(*dirs[i - nf]);
  });
  files_.clear();
  dirs_.clear();
  if (err) errno = err;
  return !err;
}

void write_out(std::vector<int> const& fds, std::vector<int>* errs) {
  errs->assign(fds.size(), 0);
  for (int fd : fds) ::sync_file_range(fd, 0, 0, SYNC_FILE_RANGE_WRITE);
  unsigned const wait =
      SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE | SYNC_FILE_RANGE_WAIT_AFTER;
  for (size_t i = 0; i < fds.size(); i++)
    if (::sync_file_range(fds[i], 0, 0, wait) < 0) (*errs)[i] = errno ? errno : EIO;
}

bool GroupSync::write_out() {
  std::vector<int> fds, errs;
  for (auto& f : files_) fds.push_back(f.get());
  qf::write_out(fds, &errs);
  files_.clear();
  dirs_.clear();
  for (int e : errs)
    if (e) {
      errno = e;
      return false;
    }
  return true;
}

}  // namespace qf
