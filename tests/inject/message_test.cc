// ISC license.
// Whole messages through qmail-inject's library in print mode (-n): header
// and body split, folding, the body byte for byte, limits.
#include <fcntl.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include "inject/injector.h"
#include "inject/linereader.h"
#include "sys/fd.h"
#include "../testutil.h"

using namespace qf::inject;

namespace {

struct Printed {
  Result result;
  std::string out;
};

Printed print(std::string const& input, Options opt = {}) {
  qf::test::TempDir dir;
  REQUIRE(qf::test::write_text(dir / "in", input));
  qf::Fd in(::open((dir / "in").c_str(), O_RDONLY));
  qf::Fd out(::open((dir / "out").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600));
  REQUIRE((in.ok() && out.ok()));
  Identity id;
  id.user = "joe";
  id.now = 1795443786;
  id.pid = 7;
  Config cfg;
  REQUIRE(make_config(id, "host", "example.com", "plus.example.com", "id.example.com", &cfg).ok());
  opt.queue = false;
  Printed p;
  p.result = inject(opt, id, cfg, in.get(), out.get());
  REQUIRE(qf::read_file((dir / "out").c_str(), &p.out, 1 << 28));
  return p;
}

Options to_a() {
  Options o;
  o.mode = Recipients::args;
  o.recipients = {"a@x.org"};
  return o;
}

constexpr char const* kAdded =
    "Return-Path: <joe@host.example.com>\n"
    "Date: 23 Nov 2026 14:23:06 -0000\n"
    "Message-ID: <1795443786.7.qmail@id.example.com>\n"
    "From: joe@host.example.com\n";

}  // namespace

TEST_CASE("inject message: header, blank line, body", "[inject]") {
  std::string body = "line 1\n.\n\nFrom: not a header\n\0binary\r\n";
  body.push_back('\0');
  body += "end\n";
  Printed p = print("To: a@x.org\nSubject: s\n\n" + body);
  REQUIRE(p.result.ok());
  CHECK(p.out == std::string(kAdded) + "To: a@x.org\nSubject: s\n\n" + body);
}

TEST_CASE("inject message: folded fields", "[inject]") {
  Printed p = print("Subject: one\n two\n\tthree\nTo: a@x.org,\n  b\n\nbody\n");
  REQUIRE(p.result.ok());
  CHECK(p.out == std::string(kAdded) + "Subject: one\n two\n\tthree\nTo: a@x.org, b@host.example.com\n\nbody\n");
}

TEST_CASE("inject message: the header ends at a line that is not a field", "[inject]") {
  Printed p = print("To: a@x.org\nthis is the body\nmore\n");
  REQUIRE(p.result.ok());
  CHECK(p.out == std::string(kAdded) + "To: a@x.org\n\nthis is the body\nmore\n");
  // no header at all
  p = print("hello\n", to_a());
  REQUIRE(p.result.ok());
  CHECK(p.out == std::string(kAdded) + "Cc: recipient list not shown: ;\n\nhello\n");
}

TEST_CASE("inject message: mbox From_ line, CRLF blank line, missing final newline", "[inject]") {
  Printed p = print("From joe Mon Jan 1\nTo: a@x.org\r\n\r\nbody\r\n");
  REQUIRE(p.result.ok());
  CHECK(p.out == std::string(kAdded) + "MBOX-Line: From joe Mon Jan 1\nTo: a@x.org\n\r\nbody\r\n");
  p = print("To: a@x.org\n\nno newline");
  CHECK(p.out == std::string(kAdded) + "To: a@x.org\n\nno newline\n");
  p = print("To: a@x.org");
  CHECK(p.out == std::string(kAdded) + "To: a@x.org\n");
  p = print("To: a@x.org\n");
  CHECK(p.out == std::string(kAdded) + "To: a@x.org\n");
}

TEST_CASE("inject message: empty input", "[inject]") {
  Printed p = print("", to_a());
  REQUIRE(p.result.ok());
  CHECK(p.out == std::string(kAdded) + "Cc: recipient list not shown: ;\n");
}

TEST_CASE("inject message: limits", "[inject]") {
  // one field over the limit, on one line or folded
  Printed p = print("X-Long: " + std::string(kMaxField, 'a') + "\n\nbody\n");
  CHECK(p.result.code == 100);
  CHECK(p.result.error.find("header field too long") == 0);
  std::string folded = "X-Long: a\n";
  while (folded.size() <= kMaxField) folded += " " + std::string(999, 'b') + "\n";
  p = print(folded + "\nbody\n");
  CHECK(p.result.code == 100);
  // a body line of any length is fine, even the first
  std::string longline(3 * kMaxField, 'c');
  p = print("To: a@x.org\n\n" + longline + "\n");
  REQUIRE(p.result.ok());
  CHECK(p.out == std::string(kAdded) + "To: a@x.org\n\n" + longline + "\n");
  p = print(longline + "\n", to_a());
  REQUIRE(p.result.ok());
  CHECK(p.out == std::string(kAdded) + "Cc: recipient list not shown: ;\n\n" + longline + "\n");
}

TEST_CASE("inject message: line reader", "[inject]") {
  int p[2];
  REQUIRE(::pipe(p) == 0);
  qf::Fd r(p[0]);
  {
    qf::Fd w(p[1]);
    REQUIRE(qf::write_all(w.get(), std::string_view("ab\ncdefgh\nij")));
  }
  LineReader rd(r.get());
  std::string line;
  CHECK(rd.line(&line, 10) == LineReader::Status::line);
  CHECK(line == "ab\n");
  CHECK(rd.line(&line, 4) == LineReader::Status::too_long);
  CHECK(line == "cdef");
  std::string_view rest;
  REQUIRE(rd.chunk(&rest) > 0);
  CHECK(rest == "gh\nij");
  CHECK(rd.chunk(&rest) == 0);
  CHECK(rd.line(&line, 10) == LineReader::Status::eof);
}
