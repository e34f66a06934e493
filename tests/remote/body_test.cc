// ISC license.
#include "remote/body.h"

#include <catch2/catch.hpp>
#include <random>
#include <string>

using namespace qf::remote;

namespace {

std::string encode(std::string const& in, size_t step) {
  BodyEncoder e;
  std::string out;
  for (size_t i = 0; i < in.size(); i += step) e.feed(std::string_view(in).substr(i, step), &out);
  e.finish(&out);
  return out;
}

// The wire has exactly one end-of-data, at its end, and no bare CR or LF.
void check_wire(std::string const& wire) {
  REQUIRE(wire.size() >= 3);
  CHECK(wire.compare(wire.size() - 3, 3, ".\r\n") == 0);
  size_t eod = wire.find("\r\n.\r\n");
  if (wire == ".\r\n")
    CHECK(eod == std::string::npos);
  else
    CHECK(eod == wire.size() - 5);
  CHECK((wire.compare(0, 3, ".\r\n") != 0 || wire.size() == 3));
  for (size_t i = 0; i < wire.size(); i++) {
    if (wire[i] == '\r') CHECK((i + 1 < wire.size() && wire[i + 1] == '\n'));
    if (wire[i] == '\n') CHECK((i > 0 && wire[i - 1] == '\r'));
  }
}

}  // namespace

TEST_CASE("body: the fixed rules", "[remote][body]") {
  CHECK(encode("", 10) == ".\r\n");
  CHECK(encode("a\n", 10) == "a\r\n.\r\n");
  CHECK(encode("a", 10) == "a\r\n.\r\n");                 // partial last line completed
  CHECK(encode(".\n", 10) == "..\r\n.\r\n");              // dot-stuffing
  CHECK(encode("a\n.\nb\n", 1) == "a\r\n..\r\nb\r\n.\r\n");
  CHECK(encode("a\r\nb\r\n", 10) == "a\r\nb\r\n.\r\n");   // CRLF kept
  CHECK(encode("a\rb", 10) == "a\r\nb\r\n.\r\n");         // bare CR ends a line
  CHECK(encode("a\r", 10) == "a\r\n.\r\n");
  CHECK(encode("a\r\r\n", 1) == "a\r\n\r\n.\r\n");
  CHECK(encode("\r.\r\n", 1) == "\r\n..\r\n.\r\n");
  CHECK(encode(std::string("x\0\xff\n", 4), 10) == std::string("x\0\xff\r\n.\r\n", 8));
}

TEST_CASE("body: smuggling shapes cannot end the data early", "[remote][body]") {
  for (std::string s : {"a\n.\nMAIL FROM:<x>\n", "a\r\n.\r\nRCPT TO:<y>\r\n", "a\n.\r\nb", "a\r.\rb",
                        "a\r\n.\nb", "a\n.\rb", ".\r\n", "\n.\n", "..\n", ".", "\r\n.\r\n"}) {
    for (size_t step : {1u, 2u, 3u, 100u}) {
      std::string wire = encode(s, step);
      check_wire(wire);
      std::string back;
      REQUIRE(decode_body(wire, &back));
      CHECK(back == normalise_body(s));
    }
  }
}

TEST_CASE("body: differential test, decode(encode(x)) == normalise(x)", "[remote][body]") {
  std::mt19937 rng(12345);
  char const alphabet[] = {'a', '.', '\r', '\n', '\0', '\xff', ' '};
  for (int round = 0; round < 3000; round++) {
    size_t len = rng() % 40;
    std::string s;
    for (size_t i = 0; i < len; i++) s.push_back(alphabet[rng() % sizeof alphabet]);
    size_t step = 1 + rng() % 8;
    std::string wire = encode(s, step);
    check_wire(wire);
    std::string back;
    REQUIRE(decode_body(wire, &back));
    REQUIRE(back == normalise_body(s));
    BodyScanner sc;
    for (size_t i = 0; i < s.size(); i += step) sc.feed(std::string_view(s).substr(i, step));
    BodyInfo info = sc.finish();
    size_t lines = 0;
    for (char c : back) lines += c == '\n';
    CHECK(info.size == back.size() + lines);
    CHECK(info.eightbit == (s.find('\xff') != std::string::npos));
  }
}

TEST_CASE("body: the decoder refuses what the encoder never writes", "[remote][body]") {
  std::string out;
  CHECK_FALSE(decode_body("a\r\n", &out));          // no end of data
  CHECK_FALSE(decode_body(".x\r\n.\r\n", &out));    // unstuffed dot
  CHECK_FALSE(decode_body("a\nb\r\n.\r\n", &out));  // bare LF
  CHECK_FALSE(decode_body(".\r\nx", &out));         // data after the end
  CHECK(decode_body("..x\r\n.\r\n", &out));
  CHECK(out == ".x\n");
}
