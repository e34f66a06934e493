// ISC license.
#include "inject/token822.h"

#include <catch2/catch.hpp>

using qf::inject::Token;
using qf::inject::Tokens;

namespace {

Tokens tok(std::string_view s) {
  Tokens t;
  REQUIRE(qf::inject::tokenize(s, &t));
  return t;
}

// Rewrites every address of s by appending "!" to it, and lists them in the
// order the walker found them (right to left).
std::string rewrite(std::string_view s, std::vector<std::string>* seen = nullptr) {
  Tokens out;
  bool ok = qf::inject::rewrite_address_list(tok(s), &out, [&](Tokens* a) {
    if (seen) seen->push_back(qf::inject::unquote(*a));
    if (a->empty())
      a->push_back(Token{Token::atom, "!"});
    else
      a->back().text += "!";
  });
  if (!ok) return "FAIL";
  return qf::inject::render(out, 0, 1000);
}

}  // namespace

TEST_CASE("token822: tokens", "[inject]") {
  Tokens t = tok(" Fred \"Q. \\\"Smith\\\"\" <fred@[1.2.3.4]> (a (nested) comment)\r\n\t, x.y");
  REQUIRE(t.size() == 12);
  CHECK(t[0] == Token{Token::atom, "Fred"});
  CHECK(t[1] == Token{Token::quoted, "Q. \"Smith\""});
  CHECK(t[2].type == Token::left);
  CHECK(t[3] == Token{Token::atom, "fred"});
  CHECK(t[4].type == Token::at);
  CHECK(t[5] == Token{Token::literal, "1.2.3.4"});
  CHECK(t[6].type == Token::right);
  CHECK(t[7] == Token{Token::comment, "a (nested) comment"});
  CHECK(t[8].type == Token::comma);
  CHECK(t[9] == Token{Token::atom, "x"});
  CHECK(t[10].type == Token::dot);
  CHECK(t[11] == Token{Token::atom, "y"});
  CHECK(t[0].blank_before);
  CHECK(t[2].blank_before);
  CHECK_FALSE(t[3].blank_before);
  CHECK_FALSE(t[11].blank_before);
}

TEST_CASE("token822: folded quoted strings lose their line breaks", "[inject]") {
  Tokens t = tok("\"a\r\n b\" (c\n\td)");
  REQUIRE(t.size() == 2);
  CHECK(t[0].text == "a b");
  CHECK(t[1].text == "c\td");
}

TEST_CASE("token822: no CR or LF gets through", "[inject]") {
  Tokens t = tok("\"a\\\nb\" c\\\rd");
  REQUIRE(t.size() == 2);
  CHECK(t[0].text == "ab");
  CHECK(t[1].text == "cd");
  // text from elsewhere (a name from the environment) cannot end the field
  CHECK(qf::inject::render(Tokens{Token{Token::quoted, "Joe\nBcc: x\r"}}, 0) == "\"Joe Bcc: x \"");
  CHECK(qf::inject::render(Tokens{Token{Token::comment, "a\nb"}}, 0) == "(a b)");
}

TEST_CASE("token822: malformed input", "[inject]") {
  Tokens t;
  CHECK_FALSE(qf::inject::tokenize("\"open", &t));
  CHECK_FALSE(qf::inject::tokenize("(open (nested)", &t));
  CHECK_FALSE(qf::inject::tokenize("[open", &t));
  CHECK_FALSE(qf::inject::tokenize("a, ) b", &t));
  CHECK_FALSE(qf::inject::tokenize("] b", &t));
  CHECK_FALSE(qf::inject::tokenize("\"ends in backslash\\", &t));
  CHECK(qf::inject::tokenize("", &t));
  CHECK(t.empty());
  CHECK(qf::inject::tokenize(" \t\r\n", &t));
  CHECK(t.empty());
}

TEST_CASE("token822: rendering", "[inject]") {
  using qf::inject::render;
  CHECK(render(tok("Fred   Smith<fred@x.y>"), 0) == "Fred Smith <fred@x.y>");
  CHECK(render(tok("J.  R. Smith"), 0) == "J. R. Smith");
  CHECK(render(tok("J.R.Smith"), 0) == "J.R.Smith");
  CHECK(render(tok("a@b,c@d"), 0) == "a@b, c@d");
  CHECK(render(tok("list:a@b,c@d;"), 0) == "list: a@b, c@d;");
  CHECK(render(tok("recipient list not shown: ;"), 0) == "recipient list not shown: ;");
  CHECK(render(tok("<a@b>(Fred)"), 0) == "<a@b> (Fred)");
  // quoting: atoms that cannot stand bare, and escapes
  CHECK(render(Tokens{Token{Token::atom, "a,b"}}, 0) == "\"a,b\"");
  CHECK(render(Tokens{Token{Token::quoted, "say \"hi\"\\"}}, 0) == "\"say \\\"hi\\\"\\\\\"");
  CHECK(render(Tokens{Token{Token::comment, "a (b) c"}}, 0) == "(a (b) c)");
  CHECK(render(Tokens{Token{Token::comment, "a ) c"}}, 0) == "(a \\) c)");
  CHECK(render(Tokens{Token{Token::atom, "J\xc3\xbcrgen"}}, 0) == "J\xc3\xbcrgen");
  CHECK(render(tok("a)b"), 0) == "\"a)b\"");
}

TEST_CASE("token822: long lists fold after commas", "[inject]") {
  std::string list;
  for (int i = 0; i < 20; i++) list += (i ? ", " : "") + std::string("person") + std::to_string(i) + "@example.org";
  std::string r = qf::inject::render(tok(list), 4);
  size_t start = 0, first = 4;
  int lines = 0;
  while (start <= r.size()) {
    size_t nl = r.find('\n', start);
    std::string_view line(r.data() + start, (nl == std::string::npos ? r.size() : nl) - start);
    CHECK(first + line.size() <= 80);
    if (lines > 0) CHECK(line.substr(0, 2) == "  ");
    lines++;
    first = 0;
    if (nl == std::string::npos) break;
    start = nl + 1;
  }
  CHECK(lines > 3);
  // unfolding gives back the one-line rendering
  std::string flat = r;
  for (size_t p; (p = flat.find("\n  ")) != std::string::npos;) flat.replace(p, 3, " ");
  CHECK(flat == qf::inject::render(tok(list), 0, 100000));
  // one address longer than a line stays whole
  std::string huge(200, 'x');
  CHECK(qf::inject::render(tok(huge + "@a, b@c"), 4) == huge + "@a,\n  b@c");
}

TEST_CASE("token822: unquote and quote_address", "[inject]") {
  using qf::inject::quote_address;
  using qf::inject::unquote;
  CHECK(unquote(tok("\"fred smith\"@x.y (comment)")) == "fred smith@x.y");
  CHECK(unquote(tok("a@[1.2.3.4]")) == "a@[1.2.3.4]");
  CHECK(quote_address("fred@x.y") == "fred@x.y");
  CHECK(quote_address("fred smith@x.y") == "\"fred smith\"@x.y");
  CHECK(quote_address("a\"b@x") == "\"a\\\"b\"@x");
  CHECK(quote_address("a@b@x") == "\"a@b\"@x");
  CHECK(quote_address(".fred@x") == "\".fred\"@x");
  CHECK(quote_address("fred") == "fred");
  CHECK(qf::inject::dot_atom("first.last+tag"));
  CHECK_FALSE(qf::inject::dot_atom("a..b"));
  CHECK_FALSE(qf::inject::dot_atom(""));
}

TEST_CASE("token822: address lists", "[inject]") {
  std::vector<std::string> seen;
  CHECK(rewrite("a@b, Fred <c@d>, \"Q\" <e@f> (x)", &seen) == "a@b!, Fred <c@d!>, \"Q\" <e@f!> (x)");
  CHECK(seen == std::vector<std::string>{"e@f", "c@d", "a@b"});
  // groups, the empty group, comments inside
  CHECK(rewrite("friends: g@h, i@j;, k@l") == "friends: g@h!, i@j!;, k@l!");
  CHECK(rewrite("undisclosed-recipients: ;") == "undisclosed-recipients: ;");
  CHECK(rewrite("fred (Fred Flintstone)") == "fred! (Fred Flintstone)");
  // a blank between two addresses is a missing comma (qmail-header(5))
  CHECK(rewrite("djb fred") == "djb!, fred!");
  CHECK(rewrite("djb@a fred@b") == "djb@a!, fred@b!");
  // phrases with dots, source routes inside brackets, <> is an address
  CHECK(rewrite("J. R. Smith <@r1,@r2:j@x>") == "J. R. Smith <@r1, @r2: j@x!>");
  seen.clear();
  CHECK(rewrite("<>", &seen) == "<!>");
  CHECK(seen == std::vector<std::string>{""});
  CHECK(rewrite("") == "");
  // malformed lists
  CHECK(rewrite("a: b: c;;") == "FAIL");
  CHECK(rewrite("a@b>") == "FAIL");
  CHECK(rewrite("foo:bar") == "FAIL");
}
