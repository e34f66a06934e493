// ISC license.
#include "remote/tcpto.h"

#include <catch2/catch.hpp>
#include <string>

#include "../testutil.h"

using namespace qf::remote;

TEST_CASE("tcpto: qmail's dead-host rules", "[remote][tcpto]") {
  std::string img(2048, '\0');
  int64_t t = 1000000;
  CHECK_FALSE(tcpto::dead(img, "192.0.2.1", t, 0));
  CHECK(tcpto::update(&img, "192.0.2.1", false, t) == -1);  // success of an unknown host: nothing
  CHECK(tcpto::update(&img, "192.0.2.1", true, t) == 0);
  CHECK_FALSE(tcpto::dead(img, "192.0.2.1", t, 0));           // one timeout is not enough
  CHECK(tcpto::update(&img, "192.0.2.1", true, t + 60) == -1);  // within 2 minutes: not counted
  CHECK(tcpto::update(&img, "192.0.2.1", true, t + 200) == 0);
  CHECK(tcpto::dead(img, "192.0.2.1", t + 200, 0));
  CHECK(tcpto::dead(img, "192.0.2.1", t + 200 + 60 * 64 - 1, 0));
  CHECK_FALSE(tcpto::dead(img, "192.0.2.1", t + 200 + 60 * 64, 0));
  CHECK(tcpto::dead(img, "192.0.2.1", t + 200 + 60 * 64, 31));  // jitter up to 31*64 s more
  CHECK_FALSE(tcpto::dead(img, "192.0.2.2", t + 200, 0));
  auto recs = tcpto::parse(img);
  REQUIRE(recs.size() == 1);
  CHECK(recs[0].ip == "192.0.2.1");
  CHECK(recs[0].count == 2);
  CHECK(recs[0].when == t + 200);
  // A good connection forgets the host.
  CHECK(tcpto::update(&img, "192.0.2.1", false, t + 300) == 0);
  CHECK_FALSE(tcpto::dead(img, "192.0.2.1", t + 300, 0));
  CHECK(tcpto::parse(img).empty());
}

TEST_CASE("tcpto: IPv6, the count cap, eviction of the oldest", "[remote][tcpto]") {
  std::string img(4 * tcpto::kRecord, '\0');
  int64_t t = 5000000;
  for (int i = 0; i < 20; i++) tcpto::update(&img, "2001:db8::7", true, t + i * 1000);
  auto recs = tcpto::parse(img);
  REQUIRE(recs.size() == 1);
  CHECK(recs[0].ip == "2001:db8::7");
  CHECK(recs[0].count == tcpto::kMaxCount);
  // Fill the other three records, then a fifth host replaces the oldest.
  tcpto::update(&img, "10.0.0.1", true, t + 100);
  tcpto::update(&img, "10.0.0.2", true, t + 50);
  tcpto::update(&img, "10.0.0.3", true, t + 200);
  CHECK(tcpto::update(&img, "10.0.0.4", true, t + 30000) == 2);  // 10.0.0.2 was oldest
  recs = tcpto::parse(img);
  CHECK(recs.size() == 4);
  bool found2 = false;
  for (auto& r : recs) found2 = found2 || r.ip == "10.0.0.2";
  CHECK_FALSE(found2);
  // Garbage addresses are ignored.
  CHECK(tcpto::update(&img, "not-an-ip", true, t) == -1);
  CHECK_FALSE(tcpto::dead(img, "not-an-ip", t, 0));
}

TEST_CASE("tcpto: the file, locked on every access", "[remote][tcpto]") {
  qf::test::TempDir d;
  std::string path = d / "tcpto";
  REQUIRE(qf::test::write_text(path, std::string(2048, '\0')));
  tcpto::File f(path);
  int64_t t = 7000000;
  f.note("127.0.0.9", true, t);
  f.note("127.0.0.9", true, t + 500);
  CHECK(f.dead("127.0.0.9", t + 600));
  std::vector<tcpto::Record> recs;
  REQUIRE(f.list(&recs));
  REQUIRE(recs.size() == 1);
  CHECK(recs[0].count == 2);
  REQUIRE(f.clear());
  REQUIRE(f.list(&recs));
  CHECK(recs.empty());
  std::string data;
  REQUIRE(qf::read_file(path.c_str(), &data));
  CHECK(data == std::string(2048, '\0'));
  // An old 1024-byte file still works; a missing one means nobody is dead.
  REQUIRE(qf::test::write_text(path, std::string(1024, '\0')));
  f.note("127.0.0.9", true, t);
  REQUIRE(f.list(&recs));
  CHECK(recs.size() == 1);
  tcpto::File missing(d / "nope");
  CHECK_FALSE(missing.dead("127.0.0.9", t));
  missing.note("127.0.0.9", true, t);
}
