// ISC license.
// hold/N: the held state, stale holds, and qmail-qsuper's helpers.
#include "queue/hold.h"

#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include "queue/admin.h"
#include "sys/fs.h"
#include "../testutil.h"

using namespace qf;
using namespace qf::queue;

namespace {
Layout scratch(std::string const& root) {
  Layout q(root, 1, false);
  for (auto const& s : dir_specs()) mkdir_p(q.dir(s.dir), 0700);
  mkdir_p(q.subdir(Dir::mess, 0), 0700);
  return q;
}
}  // namespace

TEST_CASE("hold/N holds its message until removed", "[queue][hold]") {
  qf::test::TempDir t;
  Layout q = scratch(t.path());
  REQUIRE(write_file_atomic(q.path(Dir::mess, 7), "x\n", 0644));
  REQUIRE(hold_state(q, 7) == HoldState::none);
  bool created = false;
  REQUIRE(hold_create(q, 7, 1700000000, "by hand\nsecond line", &created));
  REQUIRE(created);
  REQUIRE(hold_state(q, 7) == HoldState::held);
  time_t when;
  std::string why;
  REQUIRE(hold_read(q, 7, &when, &why));
  CHECK(when == 1700000000);
  CHECK(why == "by hand second line");
  REQUIRE(hold_create(q, 7, 1, "again", &created));  // kept as it is
  CHECK_FALSE(created);
  REQUIRE(hold_read(q, 7, &when, &why));
  CHECK(when == 1700000000);
  REQUIRE(hold_remove(q, 7));
  REQUIRE(hold_state(q, 7) == HoldState::none);
  REQUIRE(hold_remove(q, 7));
}

TEST_CASE("a hold older than its message, or without one, is stale", "[queue][hold]") {
  qf::test::TempDir t;
  Layout q = scratch(t.path());
  REQUIRE(hold_create(q, 9, 1, "old"));
  CHECK(hold_state(q, 9) == HoldState::stale);  // no mess/9
  usleep(20000);
  REQUIRE(write_file_atomic(q.path(Dir::mess, 9), "x\n", 0644));  // a new message, same number
  CHECK(hold_state(q, 9) == HoldState::stale);
}

TEST_CASE("pause patterns and queue numbers", "[queue][admin]") {
  CHECK(paused_pattern("Example.COM") == "remote:example.com");
  CHECK(paused_pattern("remote") == "remote");
  CHECK(paused_pattern("local:joe") == "local:joe");
  CHECK(paused_pattern("remote:") == "");
  CHECK(paused_pattern("smtp:x") == "");
  CHECK(paused_pattern("a b") == "");
  CHECK(queue_number("/var/qmail/queue/queue12") == 12);
  CHECK(queue_number("/var/qmail/queue/queue12/") == 12);
  CHECK(queue_number("/var/qmail/queue") == 0);
}
