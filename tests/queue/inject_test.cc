// ISC license.
#include "queue/inject.h"

#include <catch2/catch.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "queue/fix.h"
#include "queue/sweep.h"
#include "../testutil.h"

using namespace qf::queue;
using qf::test::TempDir;

namespace {

Layout make_queue(TempDir const& t) {
  Layout q(t / "queue", 7, false);
  FixOptions o;
  std::string err;
  REQUIRE(resolve_owners(&o.owners, &err));
  FixResult r = fix_queue(q, o, FixReport{});
  REQUIRE_FALSE(r.failed);
  return q;
}

}  // namespace

TEST_CASE("inject: a committed message is in S4 with its bytes", "[inject]") {
  TempDir t;
  Layout q = make_queue(t);
  uint64_t id;
  {
    Injection inj(q);
    REQUIRE(inj.create_message(getpid(), 1700000000));
    id = inj.id();
    REQUIRE(qf::write_all(inj.mess_fd(), "hello\n"));
    REQUIRE(inj.sync_message());
    REQUIRE(inj.create_envelope());
    REQUIRE(qf::write_all(inj.intd_fd(), std::string("Fa@b\0Tc@d\0", 10)));
    REQUIRE(inj.commit());
  }
  CHECK(classify(probe(q, id)) == State::S4);
  std::string data;
  REQUIRE(qf::read_file(q.path(Dir::mess, id).c_str(), &data));
  CHECK(data == "hello\n");
  struct stat st;
  REQUIRE(stat(q.path(Dir::mess, id).c_str(), &st) == 0);
  CHECK(uint64_t(st.st_ino) == id);   // the id is the inode
  CHECK(st.st_nlink == 1);           // the pid/ link is gone
  REQUIRE(qf::read_file(q.path(Dir::todo, id).c_str(), &data));
  CHECK(data == std::string("Fa@b\0Tc@d\0", 10));
}

TEST_CASE("inject: abandoning before commit leaves the queue as it was", "[inject]") {
  TempDir t;
  Layout q = make_queue(t);
  auto before = qf::test::snapshot(q.root());
  for (int stage = 0; stage < 3; stage++) {
    Injection inj(q);
    REQUIRE(inj.create_message(getpid(), 1700000000));
    REQUIRE(qf::write_all(inj.mess_fd(), "partial"));
    if (stage >= 1) REQUIRE(inj.create_envelope());
    if (stage >= 2) REQUIRE(qf::write_all(inj.intd_fd(), "Fa@b"));
    // destroyed here without commit
  }
  CHECK(qf::test::snapshot(q.root()) == before);
}

TEST_CASE("inject: a failing todo link rolls everything back", "[inject]") {
  TempDir t;
  Layout q = make_queue(t);
  REQUIRE(system(("rm -rf '" + q.dir(Dir::todo) + "'").c_str()) == 0);
  auto before = qf::test::snapshot(q.root());
  Injection inj(q);
  REQUIRE(inj.create_message(getpid(), 1));
  REQUIRE(inj.sync_message());
  REQUIRE(inj.create_envelope());
  CHECK_FALSE(inj.commit());
  CHECK(inj.failed_stage() == Injection::Stage::link_todo);
  CHECK(qf::test::snapshot(q.root()) == before);
}

TEST_CASE("inject: a missing mess split directory fails the mess step", "[inject]") {
  TempDir t;
  Layout q = make_queue(t);
  for (unsigned i = 0; i < q.split(); i++) rmdir(q.subdir(Dir::mess, i).c_str());
  auto before = qf::test::snapshot(q.root());
  Injection inj(q);
  CHECK_FALSE(inj.create_message(getpid(), 1));
  CHECK_FALSE(inj.failed_in_pid());
  CHECK(qf::test::snapshot(q.root()) == before);
}

TEST_CASE("inject: the injector's lock keeps sweepers away", "[inject][sweep]") {
  TempDir t;
  Layout q = make_queue(t);
  Injection inj(q);
  REQUIRE(inj.create_message(getpid(), 1));
  std::string mess = q.path(Dir::mess, inj.id());
  CHECK(held_by_injector(mess.c_str()));
  // The message in S2 is not reclaimable while its injector holds it.
  struct timespec ts[2] = {{1000, 0}, {1000, 0}};
  REQUIRE(utimensat(AT_FDCWD, mess.c_str(), ts, 0) == 0);
  CHECK_FALSE(reclaimable(q, inj.id(), time(nullptr)));
  uint64_t id = inj.id();
  inj.abort();
  CHECK(classify(probe(q, id)) == State::S1);
}
