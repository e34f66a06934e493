// ISC license.
#include "smtpd/lines.h"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

using namespace qf::smtpd;

namespace {

// Every event the reader reports for input fed in pieces of `step` bytes.
std::vector<std::string> read_lines(std::string const& input, size_t max, size_t step) {
  CommandReader r(max);
  std::vector<std::string> got;
  for (size_t i = 0; i < input.size(); i += step) {
    std::string_view in = std::string_view(input).substr(i, step);
    for (;;) {
      Event e = r.next(&in);
      if (e == Event::need_more) break;
      if (e == Event::line) got.push_back("line:" + r.line());
      if (e == Event::too_long) got.push_back("too_long");
      if (e == Event::bare_lf) return got.push_back("bare_lf"), got;
      if (e == Event::bare_cr) return got.push_back("bare_cr"), got;
    }
  }
  return got;
}

struct Decoded {
  Event event;
  std::string out;
  std::string rest;  // input left after the event
};

Decoded decode(std::string const& input, size_t step = 0) {
  DataDecoder d;
  Decoded r{Event::need_more, "", ""};
  if (step == 0) step = input.size() ? input.size() : 1;
  for (size_t i = 0; i < input.size(); i += step) {
    std::string_view in = std::string_view(input).substr(i, step);
    r.event = d.next(&in, &r.out);
    if (r.event != Event::need_more) {
      r.rest = std::string(in) + input.substr(std::min(input.size(), i + step));
      return r;
    }
  }
  return r;
}

}  // namespace

TEST_CASE("command reader: lines end with CR LF only", "[smtpd][lines]") {
  for (size_t step : {1, 2, 3, 1000}) {
    INFO("step " << step);
    CHECK(read_lines("HELO a\r\nNOOP\r\n", 100, step) ==
          std::vector<std::string>{"line:HELO a", "line:NOOP"});
    CHECK(read_lines("\r\n", 100, step) == std::vector<std::string>{"line:"});
    CHECK(read_lines("HELO a\n", 100, step) == std::vector<std::string>{"bare_lf"});
    CHECK(read_lines("\n", 100, step) == std::vector<std::string>{"bare_lf"});
    CHECK(read_lines("NOOP\r\nHE\rLO\r\n", 100, step) ==
          std::vector<std::string>{"line:NOOP", "bare_cr"});
    CHECK(read_lines("NOOP\r\r\n", 100, step) == std::vector<std::string>{"bare_cr"});
    CHECK(read_lines("NOOP", 100, step).empty());
  }
  // A NUL byte is kept (the session refuses it inside addresses).
  CHECK(read_lines(std::string("A\0B\r\n", 5), 100, 1) ==
        std::vector<std::string>{std::string("line:A\0B", 8)});
}

TEST_CASE("command reader: long lines are dropped whole, memory stays bounded", "[smtpd][lines]") {
  std::string exact(10, 'x'), over(11, 'y');
  for (size_t step : {1, 4, 1000}) {
    INFO("step " << step);
    CHECK(read_lines(exact + "\r\n" + over + "\r\nNOOP\r\n", 10, step) ==
          std::vector<std::string>{"line:" + exact, "too_long", "line:NOOP"});
  }
  // 10 MB on one line: one too_long, and the reader never holds more than its limit.
  CommandReader r(2048);
  std::string chunk(1 << 16, 'z');
  for (int i = 0; i < 160; i++) {
    std::string_view in(chunk);
    REQUIRE(r.next(&in) == Event::need_more);
    REQUIRE(r.line().size() <= 2048);
  }
  std::string_view end("\r\n");
  CHECK(r.next(&end) == Event::too_long);
  // A bare LF inside the part being dropped is still refused.
  CHECK(read_lines(std::string(50, 'a') + "\n.\r\n", 10, 7) == std::vector<std::string>{"bare_lf"});
}

TEST_CASE("data decoder: CR LF to LF, dot-unstuffing, end at CR LF . CR LF", "[smtpd][lines]") {
  for (size_t step : {0, 1, 2, 3, 5}) {
    INFO("step " << step);
    auto d = decode("Subject: x\r\n\r\nbody\r\n.\r\n", step);
    CHECK(d.event == Event::end);
    CHECK(d.out == "Subject: x\n\nbody\n");
    d = decode("..leading dot\r\n.x\r\n...\r\n. \r\n.\r\n", step);
    CHECK(d.event == Event::end);
    CHECK(d.out == ".leading dot\nx\n..\n \n");
    d = decode(".\r\n", step);
    CHECK(d.event == Event::end);
    CHECK(d.out.empty());
    d = decode("a\r\n.\r\nQUIT\r\n", step);
    CHECK(d.event == Event::end);
    CHECK(d.out == "a\n");
    CHECK(d.rest == "QUIT\r\n");
    d = decode("no end yet\r\n", step);
    CHECK(d.event == Event::need_more);
    CHECK(d.out == "no end yet\n");
    d = decode("a dot . mid-line and .\r\n\r\n.\r\n", step);
    CHECK(d.out == "a dot . mid-line and .\n\n");
    d = decode(std::string("nul\0byte\r\n.\r\n", 13), step);
    CHECK(d.out == std::string("nul\0byte\n", 9));
  }
}

TEST_CASE("data decoder: bare LF and bare CR in every position", "[smtpd][lines]") {
  struct Case {
    char const* input;
    Event want;
  } const cases[] = {
      {"\n", Event::bare_lf},                      // first byte
      {"a\n", Event::bare_lf},                     // mid-line
      {"a\r\n\n", Event::bare_lf},                 // start of a line
      {"a\r\n.\n", Event::bare_lf},                // after a leading dot
      {"a\n.\n", Event::bare_lf},                  // the smuggling shape LF . LF
      {"a\n.\r\n", Event::bare_lf},                // LF . CR LF
      {"a\r\n.\nMAIL FROM:<x>\r\n", Event::bare_lf},  // CR LF . LF
      {"a\r.\r\n", Event::bare_cr},                // CR . CR LF
      {"a\r\n.\r.\r\n", Event::bare_cr},           // dot, CR, dot
      {"\rx", Event::bare_cr},
      {"a\rb\r\n", Event::bare_cr},
      {"a\r\r\n", Event::bare_cr},
      {"a\r\n.\rx", Event::bare_cr},
  };
  for (auto const& c : cases) {
    for (size_t step : {0, 1, 2}) {
      INFO(c.input << " step " << step);
      CHECK(decode(c.input, step).event == c.want);
    }
  }
}

TEST_CASE("data decoder: very long lines pass through unchanged", "[smtpd][lines]") {
  std::string line(3 << 20, 'L');
  auto d = decode(line + "\r\n.\r\n", 65536);
  CHECK(d.event == Event::end);
  CHECK(d.out.size() == line.size() + 1);
  CHECK(d.out.compare(0, line.size(), line) == 0);
}

TEST_CASE("hop counter: Received and Delivered-To in the header only", "[smtpd][lines]") {
  HopCounter h;
  h.feed("Received: a\nreceived: b\nRECEIVED:c\nDelivered-To: x\nReceived-SPF: no\nX: Received:\n");
  CHECK(h.hops() == 4);
  h.feed("\nReceived: in the body\n");
  CHECK(h.hops() == 4);
  HopCounter split;
  for (char c : std::string("Rece")) split.feed(std::string_view(&c, 1));
  split.feed("ived: y\nDeliver");
  split.feed("ed-To: z\n");
  CHECK(split.hops() == 2);
}
