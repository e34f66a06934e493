// ISC license.
#include "multi/ipc.h"

#include <catch2/catch.hpp>

#include <fcntl.h>
#include <stdlib.h>
#include <sys/file.h>
#include <unistd.h>

#include "queue/fix.h"
#include "queue/select.h"
#include "../testutil.h"

using namespace qf::multi;

TEST_CASE("ipc: names are versioned and differ per base", "[ipc]") {
  CHECK(ipc_prefix("/a/base").rfind("/qfleet1.", 0) == 0);
  CHECK(ipc_prefix("/a/base") != ipc_prefix("/b/base"));
  CHECK(mq_name("/a/base", 3) == ipc_prefix("/a/base") + ".q3");
}

TEST_CASE("ipc: the load metric", "[ipc]") {
  QueueSlot s{};
  CHECK(load_of(s) == 0);
  s.lmax = 10;
  s.rmax = 20;
  s.lused = 5;
  s.rused = 19;
  CHECK(load_of(s) == 95);
  s.rused = 2;
  CHECK(load_of(s) == 50);
  s.backlog = 3;
  CHECK(load_of(s) == 100);
}

TEST_CASE("ipc: least-loaded selection skips inactive and draining queues", "[ipc][qq]") {
  qf::test::TempDir t;
  std::string base = t / "base";
  qf::queue::FixOptions o;
  std::string err;
  REQUIRE(qf::queue::resolve_owners(&o.owners, &err));
  for (int n = 1; n <= 3; n++)
    REQUIRE_FALSE(qf::queue::fix_queue(qf::queue::Layout(base + "/queue" + std::to_string(n), 7, false), o,
                                       qf::queue::FixReport{}).failed);
  Shm shm;
  REQUIRE(shm.create(base, getuid(), getgid(), 0600));
  Segment* seg = shm.get();
  seg->h.dynamic = 1;
  seg->h.start = 1;
  seg->h.count = 3;
  uint32_t now = uint32_t(time(nullptr));
  for (unsigned n = 1; n <= 3; n++) {
    QueueSlot* s = shm.slot(n);
    s->state = uint32_t(QState::active);
    s->lmax = 10;
    s->rmax = 10;
    s->heartbeat = now;
  }
  shm.slot(1)->lused = 9;
  shm.slot(2)->lused = 2;
  shm.slot(3)->lused = 5;
  setenv("QUEUE_BASE", base.c_str(), 1);
  setenv("QUEUE_COUNT", "3", 1);
  unsetenv("QUEUE_POLICY");
  unsetenv("QUEUEDIR");
  int code;
  {
    qf::queue::Choice c;
    REQUIRE(qf::queue::choose_queue("x", &c, &code));
    CHECK(c.number == 2);
    CHECK(c.notify);
    CHECK_FALSE(c.trigger);
  }
  shm.slot(2)->state = uint32_t(QState::draining);
  {
    qf::queue::Choice c;
    REQUIRE(qf::queue::choose_queue("x", &c, &code));
    CHECK(c.number == 3);
  }
  // A drainer holding lock/drain exclusively: the queue is skipped even if the
  // segment has not caught up yet.
  shm.slot(2)->state = uint32_t(QState::active);
  int fd = open((base + "/queue2/lock/drain").c_str(), O_RDONLY);
  REQUIRE(fd >= 0);
  REQUIRE(flock(fd, LOCK_EX) == 0);
  {
    qf::queue::Choice c;
    REQUIRE(qf::queue::choose_queue("x", &c, &code));
    CHECK(c.number == 3);
    CHECK(c.drain_lock.ok());
  }
  close(fd);
  Shm::remove(base);
  for (char const* v : {"QUEUE_BASE", "QUEUE_COUNT"}) unsetenv(v);
}
