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

// A child forked while its parent's helpers sleep must not inherit their
// waits: with one condition variable shared by all helpers, the child's copy
// still counted the parent's sleepers and a long run of batches in the child
// hung. Here the child runs 20,000 batches of 2-8 steps under an alarm and
// reports how many steps ran.
TEST_CASE("groupsync: a forked child runs long backlogs", "[groupsync]") {
  REQUIRE(run_parallel(8, [](size_t) { return true; }) == 0);  // the parent's helpers exist and sleep
  pid_t p = ::fork();
  REQUIRE(p >= 0);
  if (p == 0) {
    ::alarm(60);
    std::atomic<size_t> ran{0};
    size_t want = 0;
    for (int b = 0; b < 20000; b++) {
      size_t n = 2 + size_t(b % 7);
      want += n;
      if (run_parallel(n, [&](size_t) {
            ran++;
            return true;
          }) != 0)
        _exit(2);
    }
    _exit(ran.load() == want ? 0 : 3);
  }
  int st = 0;
  REQUIRE(::waitpid(p, &st, 0) == p);
  INFO("child status " << st);
  CHECK(WIFEXITED(st));
  CHECK(WEXITSTATUS(st) == 0);
}


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

// Many batches of every size back to back, as todo-proc's backlog makes them:
// each must finish. A helper that sleeps through its batch hangs the caller;
// the alarm turns that into a failure of the whole run (SIGALRM kills it).
// A version that woke one helper per seat through a shared condition variable
// (notify_one) hung here within seconds, and in todo-proc under bench
// scenario (d); each helper now sleeps on a semaphore of its own.
TEST_CASE("groupsync: batches back to back never stall", "[groupsync]") {
  ::alarm(60);
  std::atomic<size_t> ran{0};
  size_t want = 0;
  for (int b = 0; b < 100000; b++) {
    size_t n = 1 + size_t(b * 7919 % 8);
    want += n;
    REQUIRE(run_parallel(n, [&](size_t) {
              ran++;
              return true;
            }) == 0);
  }
  ::alarm(0);
  CHECK(ran.load() == want);
}
