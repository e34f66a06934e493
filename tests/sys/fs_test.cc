// ISC license.
#include "sys/fs.h"

#include <catch2/catch.hpp>

#include <sys/stat.h>

#include "sys/timefmt.h"
#include "../testutil.h"

TEST_CASE("fs: number formatting and strict scanning", "[fs]") {
  CHECK(qf::fmt_u64(0) == "0");
  CHECK(qf::fmt_u64(18446744073709551615ull) == "18446744073709551615");
  uint64_t n;
  CHECK(qf::scan_u64("18446744073709551615", &n));
  CHECK(n == 18446744073709551615ull);
  CHECK_FALSE(qf::scan_u64("18446744073709551616", &n));
  CHECK_FALSE(qf::scan_u64("", &n));
  CHECK_FALSE(qf::scan_u64("12a", &n));
  CHECK_FALSE(qf::scan_u64("-1", &n));
}

TEST_CASE("fs: path helpers", "[fs]") {
  CHECK(qf::dir_of("/a/b/c") == "/a/b");
  CHECK(qf::dir_of("/a") == "/");
  CHECK(qf::dir_of("a") == ".");
  CHECK(qf::path_join("/a/", "/b") == "/a/b");
  CHECK(qf::path_join("a", "b") == "a/b");
}

TEST_CASE("fs: atomic replacement and bounded reads", "[fs]") {
  qf::test::TempDir t;
  std::string p = t / "f";
  REQUIRE(qf::write_file_atomic(p, "one", 0600));
  REQUIRE(qf::write_file_atomic(p, "two", 0640));
  std::string d;
  REQUIRE(qf::read_file(p.c_str(), &d));
  CHECK(d == "two");
  struct stat st;
  REQUIRE(stat(p.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0640);
  CHECK(access((p + ".tmp").c_str(), F_OK) != 0);
  CHECK_FALSE(qf::read_file(p.c_str(), &d, 2));
  REQUIRE(qf::mkdir_p(t / "x/y/z", 0755));
  CHECK(access((t / "x/y/z").c_str(), F_OK) == 0);
}

TEST_CASE("timefmt: RFC 822 date in UTC", "[fs]") {
  CHECK(qf::date822(0) == "1 Jan 1970 00:00:00 -0000");
  CHECK(qf::date822(1795443786) == "23 Nov 2026 14:23:06 -0000");
}
