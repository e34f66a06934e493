// ISC license.
#include "deliver/dotqmail.h"

#include <catch2/catch.hpp>

using namespace qf::deliver;

namespace {

std::vector<std::string> files(std::string_view dash, std::string_view ext) {
  std::string safe;
  REQUIRE(safe_ext(ext, &safe));
  std::vector<std::string> r;
  for (auto const& c : candidates(dash, safe)) {
    std::string f = c.file;
    if (c.default_from != std::string::npos) f += " DEFAULT=" + std::string(ext.substr(c.default_from));
    r.push_back(f);
  }
  return r;
}

using V = std::vector<std::string>;

}  // namespace

TEST_CASE("dotqmail: the extension becomes one safe file name component", "[dotqmail]") {
  std::string s;
  CHECK(safe_ext("Foo.Bar", &s));
  CHECK(s == "foo:bar");
  CHECK(safe_ext("..", &s));
  CHECK(s == "::");
  CHECK(safe_ext("", &s));
  CHECK(s.empty());
  CHECK(safe_ext("-;rm -rf ~;", &s));
  CHECK(s == "-;rm -rf ~;");
  CHECK_FALSE(safe_ext("a/b", &s));
  CHECK_FALSE(safe_ext("../../etc/passwd", &s));
  CHECK_FALSE(safe_ext("/", &s));
}

TEST_CASE("dotqmail: the lookup order and DEFAULT", "[dotqmail]") {
  CHECK(files("", "") == V{".qmail"});
  CHECK(files("-", "") == V{".qmail-", ".qmail-default DEFAULT="});
  CHECK(files("-", "a") == V{".qmail-a", ".qmail-default DEFAULT=a"});
  CHECK(files("-", "a-") == V{".qmail-a-", ".qmail-a-default DEFAULT=", ".qmail-default DEFAULT=a-"});
  CHECK(files("-", "a-b") == V{".qmail-a-b", ".qmail-a-default DEFAULT=b", ".qmail-default DEFAULT=a-b"});
  CHECK(files("-", "A-b-C") == V{".qmail-a-b-c", ".qmail-a-b-default DEFAULT=C",
                                  ".qmail-a-default DEFAULT=b-C", ".qmail-default DEFAULT=A-b-C"});
  CHECK(files("-", "x.y-z") == V{".qmail-x:y-z", ".qmail-x:y-default DEFAULT=z",
                                  ".qmail-default DEFAULT=x.y-z"});
  // A file named for the whole extension that ends in "default".
  CHECK(files("-", "list-Default")[0] == ".qmail-list-default DEFAULT=Default");
  // users/assign may give an empty dash with an extension: no chain then.
  CHECK(files("", "ext") == V{".qmailext"});
}

TEST_CASE("dotqmail: instruction lines", "[dotqmail]") {
  std::vector<Action> a;
  std::string err;
  REQUIRE(parse_instructions("# comment\n./Maildir/\n./Mailbox  \t\n/var/mail/joe\n|prog arg \n"
                             "&fwd@example.com\nplain@example.org\n\n+list\n+other\n/last/",
                             &a, &err));
  REQUIRE(a.size() == 8);
  CHECK((a[0].kind == Action::maildir && a[0].arg == "./Maildir/"));
  CHECK((a[1].kind == Action::mbox && a[1].arg == "./Mailbox"));
  CHECK((a[2].kind == Action::mbox && a[2].arg == "/var/mail/joe"));
  CHECK((a[3].kind == Action::program && a[3].arg == "prog arg"));
  CHECK((a[4].kind == Action::forward && a[4].arg == "fwd@example.com"));
  CHECK((a[5].kind == Action::forward && a[5].arg == "plain@example.org"));
  CHECK(a[6].kind == Action::list);
  CHECK((a[7].kind == Action::maildir && a[7].arg == "/last/"));

  CHECK_FALSE(parse_instructions("\n./Maildir/\n", &a, &err));
  CHECK(err == "Uh-oh: first line of .qmail file is blank. (#4.2.1)");
  CHECK_FALSE(parse_instructions("  \n", &a, &err));
  REQUIRE(parse_instructions("", &a, &err));
  CHECK(a.empty());
  REQUIRE(parse_instructions("#only a comment", &a, &err));
  CHECK(a.empty());
}

TEST_CASE("dotqmail: EXT2..4 and HOST2..4", "[dotqmail]") {
  CHECK(ext_after_dashes("a-b-c-d", 1) == "b-c-d");
  CHECK(ext_after_dashes("a-b-c-d", 2) == "c-d");
  CHECK(ext_after_dashes("a-b-c-d", 3) == "d");
  CHECK(ext_after_dashes("a-b", 3) == "");
  CHECK(ext_after_dashes("", 1) == "");
  CHECK(host_without_parts("mail.example.co.uk", 1) == "mail.example.co");
  CHECK(host_without_parts("mail.example.co.uk", 2) == "mail.example");
  CHECK(host_without_parts("mail.example.co.uk", 3) == "mail");
  CHECK(host_without_parts("example.com", 3) == "example");
  CHECK(host_without_parts("localhost", 1) == "localhost");
}
