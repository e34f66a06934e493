// ISC license.
#include "remote/reply.h"

#include <catch2/catch.hpp>
#include <string>

using namespace qf::remote;

namespace {

// Feeds s in chunks of step bytes; returns the status of the last feed.
ReplyParser::Status feed_all(ReplyParser& p, std::string const& s, size_t step, size_t* consumed) {
  size_t pos = 0;
  auto st = ReplyParser::Status::more;
  while (pos < s.size()) {
    size_t n = std::min(step, s.size() - pos), used;
    st = p.feed(s.data() + pos, n, &used);
    pos += used;
    if (st != ReplyParser::Status::more) break;
  }
  *consumed = pos;
  return st;
}

}  // namespace

TEST_CASE("reply: single and multi-line replies, any chunking", "[remote][reply]") {
  std::string wire = "250-smtp.example Hello\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n250 8BITMIME\r\n";
  for (size_t step : {1u, 2u, 7u, 1000u}) {
    ReplyParser p;
    size_t used;
    REQUIRE(feed_all(p, wire, step, &used) == ReplyParser::Status::reply);
    CHECK(used == wire.size());
    Reply r = p.take();
    CHECK(r.code == 250);
    CHECK(r.text == "250-smtp.example Hello\n250-PIPELINING\n250-SIZE 10240000\n250 8BITMIME\n");
    Extensions e = parse_ehlo(r);
    CHECK(e.pipelining);
    CHECK(e.eightbitmime);
    CHECK(e.size);
    CHECK(e.size_limit == 10240000);
  }
}

TEST_CASE("reply: two replies in one read stop at the first", "[remote][reply]") {
  ReplyParser p;
  std::string wire = "250 ok\r\n550 no such user\r\n";
  size_t used;
  REQUIRE(p.feed(wire.data(), wire.size(), &used) == ReplyParser::Status::reply);
  CHECK(used == 8);
  CHECK(p.take().code == 250);
  REQUIRE(p.feed(wire.data() + used, wire.size() - used, &used) == ReplyParser::Status::reply);
  Reply r = p.take();
  CHECK(r.code == 550);
  CHECK(r.text == "550 no such user\n");
}

TEST_CASE("reply: bare code, bare LF, lower-case keywords", "[remote][reply]") {
  ReplyParser p;
  std::string wire = "250-x\n250-pipelining\n250\n";
  size_t used;
  REQUIRE(p.feed(wire.data(), wire.size(), &used) == ReplyParser::Status::reply);
  Reply r = p.take();
  CHECK(r.code == 250);
  CHECK(parse_ehlo(r).pipelining);
  CHECK_FALSE(parse_ehlo(r).size);
}

TEST_CASE("reply: malformed codes are errors", "[remote][reply]") {
  for (std::string bad : {"abc hello\r\n", "25\r\n", "2500 x\r\n", "650 x\r\n", "150 x\r\n", "250x\r\n",
                          "\r\n"}) {
    ReplyParser p;
    size_t used;
    CHECK(p.feed(bad.data(), bad.size(), &used) == ReplyParser::Status::bad);
  }
}

TEST_CASE("reply: control bytes never reach the text", "[remote][reply]") {
  ReplyParser p;
  std::string wire("550 a\0b\x1b[31mc\rd\r\n", 17);
  size_t used;
  REQUIRE(p.feed(wire.data(), wire.size(), &used) == ReplyParser::Status::reply);
  Reply r = p.take();
  CHECK(r.text == "550 a?b?[31mc?d\n");
}

TEST_CASE("reply: an endless line is cut off with bounded memory", "[remote][reply]") {
  ReplyParser p;
  std::string chunk(4096, 'x');
  chunk.replace(0, 4, "250 ");
  size_t total = 0, used = 0;
  ReplyParser::Status st = ReplyParser::Status::more;
  for (int i = 0; i < 1000 && st == ReplyParser::Status::more; i++) {
    st = p.feed(chunk.data(), chunk.size(), &used);
    total += used;
  }
  CHECK(st == ReplyParser::Status::bad);
  CHECK(total <= ReplyParser::kMaxBytes + 1);
}

TEST_CASE("reply: a 10,000-line reply is refused, long lines are capped", "[remote][reply]") {
  ReplyParser p;
  std::string line = "250-" + std::string(60, 'y') + "\r\n";
  size_t used;
  ReplyParser::Status st = ReplyParser::Status::more;
  int n = 0;
  for (; n < 10000 && st == ReplyParser::Status::more; n++) st = p.feed(line.data(), line.size(), &used);
  CHECK(st == ReplyParser::Status::bad);
  CHECK(n <= int(ReplyParser::kMaxLines) + 1);

  ReplyParser q;
  std::string big = "451-" + std::string(3000, 'z') + "\r\n451-" + std::string(3000, 'z') + "\r\n451 end\r\n";
  REQUIRE(q.feed(big.data(), big.size(), &used) == ReplyParser::Status::reply);
  Reply r = q.take();
  CHECK(r.code == 451);
  CHECK(r.text.size() <= ReplyParser::kMaxText);

  // The text stops at kMaxText bytes, its final newline included
  // (tests/fuzz/regressions/reply).
  ReplyParser w;
  std::string wide;
  for (int i = 0; i < 5; i++) wide += "452-" + std::string(1100, 'w') + "\r\n";
  wide += "452 end\r\n";
  REQUIRE(w.feed(wide.data(), wide.size(), &used) == ReplyParser::Status::reply);
  Reply x = w.take();
  CHECK(x.text.size() == ReplyParser::kMaxText);
  CHECK(x.text.back() == '\n');
}
