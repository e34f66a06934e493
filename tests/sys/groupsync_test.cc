// ISC license.
#include "sys/groupsync.h"

#include <catch2/catch.hpp>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <fstream>
#include <mutex>
#include <sstream>

#include "../testutil.h"

using namespace qf;

namespace {

Fd make(std::string const& path) {
  Fd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
  if (fd.ok()) (void)!::write(fd.get(), "x", 1);
  return fd;
}

}  // namespace

// The helper threads outlive a batch: batches of every size, one after the
// other, each synced whole, and a failure in one does not leak into the next.
TEST_CASE("groupsync: batches of any size reuse the helpers", "[groupsync]") {
  qf::test::TempDir t;
  size_t batch = 0;
  for (size_t n : {1u, 2u, 5u, 8u, 20u, 3u, 1u, 64u}) {
    GroupSync g;
    batch++;
    for (size_t i = 0; i < n; i++) {
      Fd fd = make(t / ("f" + std::to_string(batch) + "." + std::to_string(i)));
      REQUIRE(fd.ok());
      g.add_file(std::move(fd));
    }
    g.add_dir(t.path());
    CHECK_FALSE(g.empty());
    CHECK(g.sync());
    CHECK(g.empty());
  }
  // A directory that is gone fails the batch with its errno; the files of the
  // batch are still synced and the next batch is sound.
  GroupSync bad;
  for (int i = 0; i < 4; i++) bad.add_file(make(t / ("b" + std::to_string(i))));
  bad.add_dir(t / "missing");
  errno = 0;
  CHECK_FALSE(bad.sync());
  CHECK(errno == ENOENT);
  GroupSync good;
  for (int i = 0; i < 4; i++) good.add_file(make(t / ("g" + std::to_string(i))));
  good.add_dir(t.path());
  CHECK(good.sync());
}

// A child of fork starts without its parent's helpers and makes its own.
TEST_CASE("groupsync: a forked child syncs with helpers of its own", "[groupsync]") {
  qf::test::TempDir t;
  GroupSync first;
  for (int i = 0; i < 6; i++) first.add_file(make(t / ("p" + std::to_string(i))));
  REQUIRE(first.sync());
  pid_t p = ::fork();
  REQUIRE(p >= 0);
  if (p == 0) {
    GroupSync g;
    for (int i = 0; i < 6; i++) g.add_file(make(t / ("c" + std::to_string(i))));
    g.add_dir(t.path());
    _exit(g.sync() ? 0 : 1);
  }
  int st = 0;
  REQUIRE(::waitpid(p, &st, 0) == p);
  CHECK(WIFEXITED(st));
  CHECK(WEXITSTATUS(st) == 0);
}

namespace {

// Voluntary context switches of every thread of this process but the main
// one: each helper that wakes and goes back to sleep adds at least one.
long helper_switches() {
  long sum = 0;
  std::string self = std::to_string(::getpid());
  DIR* d = ::opendir("/proc/self/task");
  if (!d) return -1;
  while (struct dirent* e = ::readdir(d)) {
    std::string tid = e->d_name;
    if (tid == "." || tid == ".." || tid == self) continue;
    std::ifstream in("/proc/self/task/" + tid + "/status");
    std::stringstream ss;
    ss << in.rdbuf();
    std::string st = ss.str();
    auto at = st.find("\nvoluntary_ctxt_switches:");
    if (at != std::string::npos) sum += std::stol(st.substr(at + 25));
  }
  ::closedir(d);
  return sum;
}

}  // namespace

// Every seat of a batch is taken: n steps that each wait for all n to have
// started finish only if n threads run them at once. A batch that woke too
// few helpers would leave a step to run after the others and time out here.
TEST_CASE("groupsync: every step of a batch runs at once", "[groupsync]") {
  for (int round = 0; round < 200; round++) {
    size_t n = 2 + size_t(round % 7);  // 2..8: up to the caller and 7 helpers
    std::mutex m;
    std::condition_variable cv;
    size_t arrived = 0, ran = 0;
    bool all = true;
    int err = run_parallel(n, [&](size_t) {
      std::unique_lock<std::mutex> lk(m);
      arrived++;
      ran++;
      cv.notify_all();
      if (!cv.wait_for(lk, std::chrono::seconds(5), [&] { return arrived >= n; })) all = false;
      return true;
    });
    REQUIRE(err == 0);
    REQUIRE(ran == n);
    REQUIRE(all);
  }
}

// A batch wakes as many helpers as it has seats for, not all of them: after a
// batch of eight made seven helpers, each batch of two wakes one of them.
TEST_CASE("groupsync: a small batch wakes one helper, not all", "[groupsync]") {
  REQUIRE(run_parallel(8, [](size_t) {
    ::usleep(20000);  // long enough that each of the 8 steps needs its own thread
    return true;
  }) == 0);
  ::usleep(50000);  // every helper asleep again
  long before = helper_switches();
  std::atomic<int> done{0};
  for (int i = 0; i < 20; i++) {
    REQUIRE(run_parallel(2, [&](size_t) {
      done++;
      return true;
    }) == 0);
    ::usleep(2000);
  }
  long woke = helper_switches() - before;
  CHECK(done.load() == 40);
  INFO("helper context switches over 20 batches of 2: " << woke);
  // Woken all at once, seven helpers would switch at least 7 times a batch (140).
  CHECK(woke < 80);
}
