// ISC license.
#include "queue/status.h"

#include <catch2/catch.hpp>

using namespace qf::queue;

TEST_CASE("status: the last record of each recipient wins", "[status]") {
  std::string f;
  put_status(&f, 'R', 100, "a@x.example", "Connection refused\n");
  put_status(&f, 'R', 100, "b@x.example", "451 later");
  put_status(&f, 'L', 150, "a@x.example", "mailbox busy");
  put_status(&f, 'R', 400, "a@x.example", std::string("452 full\0more", 13));
  std::vector<RcptStatus> v;
  REQUIRE(parse_status(f, &v));
  REQUIRE(v.size() == 3);
  CHECK(v[0].channel == 'R');
  CHECK(v[0].addr == "a@x.example");
  CHECK(v[0].when == 400);
  CHECK(v[0].text == "452 full/more");  // a NUL in the text cannot split the record
  CHECK(v[1].addr == "b@x.example");
  CHECK(v[1].text == "451 later");
  CHECK(v[2].channel == 'L');
  CHECK(v[2].when == 150);
}

TEST_CASE("status: a torn or damaged tail keeps what came before", "[status]") {
  std::string f;
  put_status(&f, 'R', 7, "a@x", "one");
  std::string whole = f;
  put_status(&f, 'R', 8, "b@x", "two");
  for (size_t cut = whole.size() + 1; cut < f.size(); cut++) {
    std::vector<RcptStatus> v;
    CHECK_FALSE(parse_status(std::string_view(f).substr(0, cut), &v));
    REQUIRE(v.size() == 1);
    CHECK(v[0].text == "one");
  }
  std::vector<RcptStatus> v;
  CHECK_FALSE(parse_status(std::string("X7 a@x\0t\0", 9), &v));
  CHECK_FALSE(parse_status(std::string("Rx a@x\0t\0", 9), &v));
  CHECK_FALSE(parse_status(std::string("R7a@x\0t\0", 8), &v));
  CHECK(v.empty());
  CHECK(parse_status("", &v));
}

TEST_CASE("status: one_line tames control characters", "[status]") {
  CHECK(one_line("Remote host said: 451 a\n451 b\n") == "Remote host said: 451 a/451 b");
  CHECK(one_line("a\r\n\tb  ") == "a/b");
  CHECK(one_line("ends with /") == "ends with /");
  CHECK(one_line("\n\nx") == "x");
}
