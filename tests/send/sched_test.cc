// ISC license.
#include "send/sched.h"

#include <catch2/catch.hpp>

using namespace qf::send;

TEST_CASE("sched: integer square root", "[sched]") {
  for (uint64_t x : {0ull, 1ull, 2ull, 3ull, 4ull, 99ull, 100ull, 101ull, 1000000ull, 4294967295ull,
                     18446744073709551615ull}) {
    uint64_t r = isqrt(x);
    CHECK(r * r <= x);
    if (r < 4294967295ull) CHECK((r + 1) * (r + 1) > x);
  }
}

TEST_CASE("sched: qmail's retry schedule", "[sched]") {
  QmailRetry q;
  CHECK(q.next(kLocal, 1000, 1000) == 1000 + 100);
  CHECK(q.next(kRemote, 1000, 1000) == 1000 + 400);
  // after the first attempt at 100 s: floor(sqrt(100)) = 10 -> (10+10)^2 = 400
  CHECK(q.next(kLocal, 0, 100) == 400);
  CHECK(q.next(kRemote, 0, 400) == 1600);
  CHECK(q.next(kLocal, 5000, 4000) == 5100);  // a birth in the future is clamped
}

TEST_CASE("sched: due queue order and ALRM", "[sched]") {
  DueQueue d;
  d.push(3, 300);
  d.push(1, 100);
  d.push(2, 200);
  CHECK(d.next_due() == 100);
  CHECK(d.pop() == 1);
  d.all_due(150);
  CHECK(d.next_due() == 150);
  CHECK(d.size() == 2);
}

TEST_CASE("sched: channel files", "[sched]") {
  std::string f("Ta@x\0Db@x\0Tc@y\0", 15);
  std::vector<Rcpt> r;
  REQUIRE(parse_channel_file(f, &r));
  REQUIRE(r.size() == 2);
  CHECK(r[0].addr == "a@x");
  CHECK(r[0].offset == 0);
  CHECK(r[1].addr == "c@y");
  CHECK(r[1].offset == 10);
  CHECK_FALSE(parse_channel_file(std::string("Ta@x\0Xb\0", 8), &r));
  CHECK_FALSE(parse_channel_file(std::string("Ta@x\0Tb", 7), &r));
}

TEST_CASE("sched: remote recipients batch by domain", "[sched]") {
  std::vector<Rcpt> r = {{"a@B.example", 0}, {"x@a.example", 0}, {"c@b.example", 0}, {"d@b.example", 0}};
  group_by_domain(&r);
  CHECK(r[0].addr == "x@a.example");
  CHECK(next_batch(r, 0, kRemote, 50) == 1);
  CHECK(next_batch(r, 1, kRemote, 50) == 3);
  CHECK(next_batch(r, 1, kRemote, 2) == 2);
  CHECK(next_batch(r, 1, kLocal, 50) == 1);
  CHECK(next_batch(r, 4, kRemote, 50) == 0);
}

TEST_CASE("sched: VERP", "[sched]") {
  CHECK(verp_sender("owner-@host-@[]", "box@rcpthost") == "owner-box=rcpthost@host");
  CHECK(verp_sender("plain@host", "box@rcpthost") == "plain@host");
  CHECK(verp_sender("", "box@rcpthost") == "");
}
