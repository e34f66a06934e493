// ISC license.
#include "queue/envelope.h"

#include <catch2/catch.hpp>

#include <string>

using qf::queue::EnvelopeParser;
using St = EnvelopeParser::Status;

namespace {

St parse_all(std::string const& in, std::string* out, size_t* used, size_t chunk = 0) {
  EnvelopeParser p;
  size_t pos = 0;
  St st = St::more;
  while (pos < in.size()) {
    size_t n = chunk ? std::min(chunk, in.size() - pos) : in.size() - pos;
    size_t u;
    st = p.feed(in.data() + pos, n, &u, out);
    pos += u;
    if (st != St::more) break;
  }
  *used = pos;
  return st;
}

std::string env(std::initializer_list<std::string> recs) {
  std::string s;
  for (auto const& r : recs) s += r + std::string(1, '\0');
  return s + std::string(1, '\0');
}

}  // namespace

TEST_CASE("envelope: sender and recipients are copied verbatim", "[envelope]") {
  std::string in = env({"Fme@example.org", "Tyou@example.net", "Tother@example.com"});
  for (size_t chunk : {size_t(0), size_t(1), size_t(3), size_t(7)}) {
    std::string out;
    size_t used;
    REQUIRE(parse_all(in, &out, &used, chunk) == St::done);
    CHECK(used == in.size());
    CHECK(out == in.substr(0, in.size() - 1));
  }
}

TEST_CASE("envelope: empty sender (a bounce) and no recipients are accepted", "[envelope]") {
  std::string out;
  size_t used;
  std::string in = env({"F"});
  REQUIRE(parse_all(in, &out, &used) == St::done);
  CHECK(out == std::string("F\0", 2));
}

TEST_CASE("envelope: missing terminator wants more input", "[envelope]") {
  std::string in = std::string("Fa@b\0Tc@d\0", 10);
  std::string out;
  size_t used;
  CHECK(parse_all(in, &out, &used) == St::more);
  CHECK(used == in.size());
}

TEST_CASE("envelope: format errors", "[envelope]") {
  std::string out;
  size_t used;
  CHECK(parse_all(std::string("Ta@b\0\0", 6), &out, &used) == St::bad_format);
  CHECK(parse_all(std::string("Fa@b\0Xc@d\0\0", 11), &out, &used) == St::bad_format);
  CHECK(parse_all(std::string("Fa@b\0T\0\0", 8), &out, &used) == St::bad_format);
  CHECK(parse_all(std::string("\0", 1), &out, &used) == St::bad_format);
  CHECK(parse_all("garbage with no structure", &out, &used) == St::bad_format);
}

TEST_CASE("envelope: address length limit is exact and never truncates", "[envelope]") {
  std::string out;
  size_t used;
  std::string ok(qf::queue::kMaxAddress, 'a');
  CHECK(parse_all(env({"F" + ok, "T" + ok}), &out, &used) == St::done);
  CHECK(out.find(ok) != std::string::npos);
  std::string too(qf::queue::kMaxAddress + 1, 'a');
  CHECK(parse_all(env({"Fa@b", "T" + too}), &out, &used) == St::too_long);
  CHECK(parse_all(env({"F" + std::string(10000, 'x')}), &out, &used, 100) == St::too_long);
}

TEST_CASE("envelope: for_each_record walks text0 records and spots truncation", "[envelope]") {
  std::string data("u0\0p12\0Fa@b\0Tc@d\0", 17);
  std::string seen;
  CHECK(qf::queue::for_each_record(data, [&](char t, std::string_view v) {
    seen += t;
    seen += std::string(v);
    seen += '|';
    return true;
  }));
  CHECK(seen == "u0|p12|Fa@b|Tc@d|");
  CHECK_FALSE(qf::queue::for_each_record(std::string_view("Fa@b\0Tc@", 8),
                                         [](char, std::string_view) { return true; }));
}

TEST_CASE("envelope: put_record", "[envelope]") {
  std::string s;
  qf::queue::put_record(&s, 'T', "x@y");
  CHECK(s == std::string("Tx@y\0", 5));
}
