// ISC license.
#include "conf/control.h"

#include <catch2/catch.hpp>

#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "../testutil.h"

using namespace qf::conf;

TEST_CASE("control: defaults, trimming, numbers and lists", "[control]") {
  qf::test::TempDir t;
  setenv("CONTROLDIR", t.path().c_str(), 1);
  std::string s;
  REQUIRE(control_line("me", &s, "fallback"));
  CHECK(s == "fallback");
  REQUIRE(qf::test::write_text(t / "me", " \tmail.example.org \r\nsecond line\n"));
  REQUIRE(control_line("me", &s, "fallback"));
  CHECK(s == "mail.example.org");

  uint64_t n;
  REQUIRE(control_uint("concurrencylocal", &n, 10));
  CHECK(n == 10);
  REQUIRE(qf::test::write_text(t / "concurrencylocal", "25\n"));
  REQUIRE(control_uint("concurrencylocal", &n, 10));
  CHECK(n == 25);
  REQUIRE(qf::test::write_text(t / "concurrencyremote", "lots\n"));
  errno = 0;
  CHECK_FALSE(control_uint("concurrencyremote", &n, 20));
  CHECK(errno == EINVAL);

  std::vector<std::string> v;
  REQUIRE(control_list("locals", &v));
  CHECK(v.empty());
  REQUIRE(qf::test::write_text(t / "locals", "# comment\nexample.org\n\n  localhost \n"));
  REQUIRE(control_list("locals", &v));
  CHECK(v == std::vector<std::string>{"example.org", "localhost"});
  CHECK(control_exists("locals"));
  CHECK_FALSE(control_exists("nothere"));
  unsetenv("CONTROLDIR");
}

// The stamps a daemon compares to know whether its kept controls are stale.
TEST_CASE("control: ControlStamps match until a file changes, appears or goes", "[control]") {
  qf::test::TempDir t;
  setenv("CONTROLDIR", t.path().c_str(), 1);
  char const* const names[] = {"me", "rcpthosts"};
  REQUIRE(qf::test::write_text(t / "me", "a.example\n"));
  ControlStamps a, b, none;
  REQUIRE(a.take(names, 2));
  REQUIRE(b.take(names, 2));
  CHECK(a == b);
  CHECK(a != none);  // stamps never taken match nothing
  REQUIRE(qf::test::write_text(t / "me", "b.example\n"));  // same size, new times
  REQUIRE(b.take(names, 2));
  CHECK(a != b);
  REQUIRE(a.take(names, 2));
  REQUIRE(qf::test::write_text(t / "rcpthosts", "example.org\n"));
  REQUIRE(b.take(names, 2));
  CHECK(a != b);
  REQUIRE(a.take(names, 2));
  CHECK(a == b);
  REQUIRE(::unlink((t / "rcpthosts").c_str()) == 0);
  REQUIRE(b.take(names, 2));
  CHECK(a != b);
  unsetenv("CONTROLDIR");
}
