// ISC license.
#include "queue/sweep.h"

#include <catch2/catch.hpp>

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "queue/fix.h"
#include "sys/fd.h"
#include "../testutil.h"

using namespace qf::queue;
using qf::test::TempDir;

namespace {

Layout make_queue(TempDir const& t) {
  Layout q(t / "queue", 5, false);
  FixOptions o;
  std::string err;
  REQUIRE(resolve_owners(&o.owners, &err));
  REQUIRE_FALSE(fix_queue(q, o, FixReport{}).failed);
  return q;
}

void age(std::string const& path, time_t atime) {
  struct timespec ts[2] = {{atime, 0}, {atime, 0}};
  REQUIRE(utimensat(AT_FDCWD, path.c_str(), ts, 0) == 0);
}

}  // namespace

TEST_CASE("sweep: the reclaim age is 36 hours and exceeds the injector timeout", "[sweep]") {
  CHECK(kOssified == 36 * 3600);
  CHECK(kOssified > time_t(kDeathSeconds));
  CHECK(kPidGrace > 0);
  CHECK_FALSE(ossified(1000, 1000 + kOssified));
  CHECK(ossified(1000, 1000 + kOssified + 1));
  CHECK_FALSE(ossified(2000, 1000));  // a file from the future is young
}

TEST_CASE("sweep: old unheld pid files go, young or held ones stay", "[sweep]") {
  TempDir t;
  Layout q = make_queue(t);
  time_t now = time(nullptr);
  std::string old1 = q.dir(Dir::pid) + "/1.1.1", young = q.dir(Dir::pid) + "/2.2.1",
              held = q.dir(Dir::pid) + "/3.3.1";
  for (auto const& p : {old1, young, held}) REQUIRE(qf::test::write_text(p, "x"));
  age(old1, now - kPidGrace - 10);
  age(held, now - kPidGrace - 10);
  qf::Fd lock(open(held.c_str(), O_RDONLY));
  REQUIRE(flock(lock.get(), LOCK_EX) == 0);
  CHECK(sweep_pid(q, now) == 1);
  CHECK(access(old1.c_str(), F_OK) != 0);
  CHECK(access(young.c_str(), F_OK) == 0);
  CHECK(access(held.c_str(), F_OK) == 0);
}

TEST_CASE("sweep: S2 and S3 leftovers are reclaimable unless an injector holds them", "[sweep]") {
  TempDir t;
  Layout q = make_queue(t);
  time_t now = time(nullptr);
  uint64_t s2 = 11, s3 = 12, s4 = 13, s5 = 14;
  for (uint64_t id : {s2, s3, s4, s5}) REQUIRE(qf::test::write_text(q.path(Dir::mess, id), "m"));
  REQUIRE(qf::test::write_text(q.path(Dir::intd, s3), "Fa\0"));
  REQUIRE(qf::test::write_text(q.path(Dir::todo, s4), "Fa\0"));
  REQUIRE(qf::test::write_text(q.path(Dir::info, s5), "Fa\0"));
  CHECK(reclaimable(q, s2, now));
  CHECK(reclaimable(q, s3, now));
  CHECK_FALSE(reclaimable(q, s4, now));  // committed: never swept
  CHECK_FALSE(reclaimable(q, s5, now));  // pre-processed: never swept
  qf::Fd lock(open(q.path(Dir::mess, s2).c_str(), O_RDONLY));
  REQUIRE(flock(lock.get(), LOCK_EX) == 0);
  CHECK_FALSE(reclaimable(q, s2, now));  // an injector is writing it
  REQUIRE(remove_leftover(q, s3));
  CHECK(classify(probe(q, s3)) == State::S1);
  CHECK(remove_leftover(q, s3));  // idempotent
}

TEST_CASE("sweep: an envelope without its message and without todo/ goes, others stay", "[sweep]") {
  TempDir t;
  Layout q = make_queue(t);
  // 5: intd only (a crash took mess/5); 6: being injected (mess + intd);
  // 7: committed, its message gone (todo + intd: not this sweep's to judge).
  for (auto const& p : {q.path(Dir::intd, 5), q.path(Dir::intd, 6), q.path(Dir::mess, 6),
                        q.path(Dir::intd, 7)})
    REQUIRE(qf::test::write_text(p, "x"));
  REQUIRE(link(q.path(Dir::intd, 7).c_str(), q.path(Dir::todo, 7).c_str()) == 0);
  CHECK(sweep_orphan_envelopes(q) == 1);
  CHECK(access(q.path(Dir::intd, 5).c_str(), F_OK) != 0);
  CHECK(access(q.path(Dir::intd, 6).c_str(), F_OK) == 0);
  CHECK(access(q.path(Dir::mess, 6).c_str(), F_OK) == 0);
  CHECK(access(q.path(Dir::intd, 7).c_str(), F_OK) == 0);
  CHECK(access(q.path(Dir::todo, 7).c_str(), F_OK) == 0);
  CHECK(sweep_orphan_envelopes(q) == 0);
}
