// ISC license.
#include "proto/spawn.h"

#include <catch2/catch.hpp>

using namespace qf::spawn;

TEST_CASE("spawn: a report carries the verdict on its destination", "[proto]") {
  std::string wire;
  encode_report(7, Verdict::site, {{'Z', "no connection"}, {'Z', "no connection"}}, &wire);
  encode_report(300, Verdict::ok, {{'K', "ok"}}, &wire);
  ReportReader r([](unsigned slot) -> size_t { return slot == 7 ? 2 : slot == 300 ? 1 : 0; });
  size_t pos = 0, used;
  REQUIRE(r.feed(wire.data(), wire.size(), &used) == ReportReader::Status::report);
  pos += used;
  CHECK(r.slot() == 7);
  CHECK(r.verdict() == Verdict::site);
  CHECK(r.take().size() == 2);
  REQUIRE(r.feed(wire.data() + pos, wire.size() - pos, &used) == ReportReader::Status::report);
  CHECK(r.slot() == 300);
  CHECK(r.verdict() == Verdict::ok);
  auto res = r.take();
  REQUIRE(res.size() == 1);
  CHECK(res[0].status == 'K');
  // An unknown verdict byte is a broken spawner.
  std::string bad("\x07\x00X", 3);
  ReportReader r2([](unsigned) -> size_t { return 1; });
  CHECK(r2.feed(bad.data(), bad.size(), &used) == ReportReader::Status::bad);
}
