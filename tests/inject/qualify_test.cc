// ISC license.
#include "inject/qualify.h"

#include <catch2/catch.hpp>

using qf::inject::Qualifier;
using qf::inject::Tokens;

namespace {

std::string qualified(Qualifier const& q, std::string_view addr) {
  Tokens t;
  REQUIRE(qf::inject::tokenize(addr, &t));
  q(&t);
  return qf::inject::unquote(t);
}

std::string arg(Qualifier const& q, std::string_view a) {
  Tokens t;
  if (!qf::inject::arg_address(a, &t)) return "FAIL";
  q(&t);
  return qf::inject::unquote(t);
}

Qualifier make(std::string_view host, std::string_view domain = "berkeley.edu",
               std::string_view plus = "plus.berkeley.edu") {
  Qualifier q;
  std::string bad;
  REQUIRE(q.init(host, domain, plus, &bad));
  return q;
}

}  // namespace

TEST_CASE("qualify: qmail-header(5) rules", "[inject]") {
  Qualifier q = make("silverton");
  CHECK(qualified(q, "djb") == "djb@silverton.berkeley.edu");
  CHECK(qualified(q, "djb@silverton") == "djb@silverton.berkeley.edu");
  CHECK(qualified(q, "djb@cs.example.org") == "djb@cs.example.org");
  CHECK(qualified(q, "eric@mammoth.cs+") == "eric@mammoth.cs.plus.berkeley.edu");
  CHECK(qualified(q, "eric@mammoth+") == "eric@mammoth.plus.berkeley.edu");
  CHECK(qualified(q, "djb@[128.32.183.163]") == "djb@[128.32.183.163]");
  CHECK(qualified(q, "@r1,@r2:fred@x.y") == "fred@x.y");
  CHECK(qualified(q, "@r1") == "");
  CHECK(qualified(q, "fred@x.y.") == "fred@x.y");
  CHECK(qualified(q, "fred@") == "fred@silverton.berkeley.edu");
  CHECK(qualified(q, "fred.") == "fred@silverton.berkeley.edu");
  CHECK(qualified(q, "") == "");
  CHECK(qualified(q, "list-@[]") == "list-@[]");
  CHECK(qualified(q, "\"fred smith\"") == "fred smith@silverton.berkeley.edu");
  CHECK(qualified(q, "fred (comment) @ x") == "fred@x.berkeley.edu");
  Tokens t;
  REQUIRE(qf::inject::tokenize("fred (c) @x", &t));
  q(&t);
  CHECK(t.back().type == qf::inject::Token::comment);  // comments move to the end
}

TEST_CASE("qualify: defaulthost with dots or a plus", "[inject]") {
  CHECK(qualified(make("mail.example.org"), "fred") == "fred@mail.example.org");
  CHECK(qualified(make("mammoth+"), "fred") == "fred@mammoth.plus.berkeley.edu");
  CHECK(qualified(make("[10.0.0.1]"), "fred") == "fred@[10.0.0.1]");
}

TEST_CASE("qualify: bad control values", "[inject]") {
  Qualifier q;
  std::string bad;
  CHECK_FALSE(q.init("a b", "x", "y", &bad));
  CHECK(bad == "defaulthost");
  CHECK_FALSE(q.init("a", "x<y", "y", &bad));
  CHECK(bad == "defaultdomain");
  CHECK_FALSE(q.init("a", "x", "", &bad));
  CHECK(bad == "plusdomain");
  CHECK_FALSE(q.init("a\\>b", "x", "y", &bad));
  CHECK(bad == "defaulthost");
}

TEST_CASE("qualify: addresses given as arguments", "[inject]") {
  Qualifier q = make("silverton");
  CHECK(arg(q, "fred") == "fred@silverton.berkeley.edu");
  CHECK(arg(q, "fred@x.y") == "fred@x.y");
  CHECK(arg(q, "<fred@x.y>") == "fred@x.y");
  CHECK(arg(q, "fred smith@x.y") == "fred smith@x.y");  // box taken literally
  CHECK(arg(q, "a@b@x.y") == "a@b@x.y");
  CHECK(arg(q, "fred+tag@mammoth+") == "fred+tag@mammoth.plus.berkeley.edu");
  CHECK(arg(q, "fred@") == "fred@silverton.berkeley.edu");
  CHECK(arg(q, "") == "FAIL");
  CHECK(arg(q, "<>") == "FAIL");
  CHECK(arg(q, "@x.y") == "FAIL");
  CHECK(arg(q, "fred@x y") == "FAIL");
  CHECK(arg(q, "fred@x>") == "FAIL");
  CHECK(arg(q, "fred@(x)") == "FAIL");
  CHECK(arg(q, "fred\nX-Evil: 1@x.y") == "FAIL");
  CHECK(arg(q, "fred@x.y\r") == "FAIL");
  CHECK(arg(q, std::string("fred\0@x.y", 10)) == "FAIL");
  // A host name needs no backslash: "x\[" is not one, and shown in a header
  // (Return-Path: <fred@x[>) it would not parse (tests/fuzz/regressions/rfc822).
  CHECK(arg(q, "fred@x\\[") == "FAIL");
  CHECK(arg(q, "fred@a\\.b") == "FAIL");
  CHECK(arg(q, "fred@[1\\]2]") == "FAIL");
  CHECK(arg(q, "fred@[1\\\\2]") == "FAIL");
  CHECK(arg(q, "fred@[10.0.0.1]") == "fred@[10.0.0.1]");
}
