// ISC license.
#include "deliver/usermap.h"

#include <catch2/catch.hpp>

#include <errno.h>
#include <unistd.h>

#include <map>

#include "../testutil.h"

using namespace qf::deliver;
using qf::test::TempDir;

namespace {

std::string show(UserMapping const& m) {
  return m.user + ":" + std::to_string(m.uid) + ":" + std::to_string(m.gid) + ":" + m.home + ":" +
         m.dash + ":" + m.ext;
}

std::string look(Assignments const& a, std::string_view local) {
  UserMapping m;
  return a.lookup(local, &m) ? show(m) : "-";
}

// A password database in a map; homes owned as listed.
struct FakePasswd {
  std::map<std::string, qf::conf::Account> users;
  std::map<std::string, uid_t> homes;
  bool broken = false;
  std::vector<std::string> asked;

  Passwd passwd() {
    Passwd p;
    p.user = [this](std::string const& name, qf::conf::Account* out) {
      asked.push_back(name);
      if (broken) return Passwd::Found::error;
      auto it = users.find(name);
      if (it == users.end()) return Passwd::Found::no;
      *out = it->second;
      return Passwd::Found::yes;
    };
    p.home_owner = [this](std::string const& path, uid_t* owner) {
      auto it = homes.find(path);
      if (it == homes.end()) return Passwd::Found::no;
      *owner = it->second;
      return Passwd::Found::yes;
    };
    return p;
  }
  void add(std::string const& name, uid_t uid, bool home = true, uid_t home_owner = 0) {
    qf::conf::Account a;
    a.name = name;
    a.uid = uid;
    a.gid = 100;
    a.home = "/home/" + name;
    users[name] = a;
    if (home) homes[a.home] = home_owner ? home_owner : uid;
  }
};

std::string getpw(FakePasswd& f, std::string_view local) {
  UserMapping m;
  std::string err;
  if (!map_getpw(local, f.passwd(), &m, &err)) return "error: " + err;
  return show(m);
}

}  // namespace

TEST_CASE("usermap: users/assign exact and wildcard entries", "[usermap]") {
  Assignments a;
  std::string err;
  REQUIRE(a.parse("=joe:joe:1000:100:/home/joe:::\n"
                  "=Info:joe:1000:100:/home/joe:-:info:\n"
                  "+list-:lists:1001:101:/var/lists:-:l-:\n"
                  "+list-big-:big:1002:102:/var/big:-::\n"
                  "+:alias:7790:2108:/var/qmail/alias:-::\n"
                  "# a comment\n\n"
                  ".\n"
                  "=after:the:1:1:/end:::\n",
                  &err));
  CHECK(a.size() == 5);
  CHECK(look(a, "joe") == "joe:1000:100:/home/joe::");
  CHECK(look(a, "JOE") == "joe:1000:100:/home/joe::");
  CHECK(look(a, "info") == "joe:1000:100:/home/joe:-:info");
  CHECK(look(a, "list-Foo") == "lists:1001:101:/var/lists:-:l-Foo");
  CHECK(look(a, "LIST-big-Bar") == "big:1002:102:/var/big:-:Bar");
  CHECK(look(a, "list-big-") == "big:1002:102:/var/big:-:");
  CHECK(look(a, "joe-x") == "alias:7790:2108:/var/qmail/alias:-:joe-x");
  CHECK(look(a, "after") == "alias:7790:2108:/var/qmail/alias:-:after");  // after "."

  Assignments b;
  REQUIRE(b.parse("=joe:joe:1000:100:/home/joe:::\r\n", &err));
  CHECK(look(b, "nobody") == "-");
  CHECK(look(b, "joe") == "joe:1000:100:/home/joe::");
  // The first of two assignments for one key wins, as with qmail-newu's cdb.
  REQUIRE(b.parse("=x:first:1:1:/a:::\n=X:second:2:2:/b:::\n", &err));
  CHECK(look(b, "x") == "first:1:1:/a::");
}

TEST_CASE("usermap: malformed users/assign lines are reported with their number", "[usermap]") {
  Assignments a;
  std::string err;
  CHECK_FALSE(a.parse("=ok:u:1:1:/h:::\n=bad:u:x:1:/h:::\n", &err));
  CHECK(err == "line 2: bad uid");
  CHECK(a.size() == 0);
  CHECK_FALSE(a.parse("joe:joe:1:1:/h:::\n", &err));
  CHECK(err.rfind("line 1:", 0) == 0);
  CHECK_FALSE(a.parse("=joe:joe:1:1:relative:::\n", &err));
  CHECK_FALSE(a.parse("=joe:joe:1:1:/h:\n", &err));
  CHECK_FALSE(a.parse("=joe:joe:1:1:/h:::extra:\n", &err));
  CHECK_FALSE(a.parse("=joe::1:1:/h:::\n", &err));
}

TEST_CASE("usermap: users/assign is reread when it changes", "[usermap]") {
  TempDir t;
  AssignFile f(t / "assign");
  std::string err;
  REQUIRE(f.refresh(&err));  // missing: an empty table
  CHECK(f.table().size() == 0);
  REQUIRE(qf::test::write_text(t / "assign", "=a:a:1:1:/a:::\n.\n"));
  REQUIRE(f.refresh(&err));
  CHECK(look(f.table(), "a") == "a:1:1:/a::");
  REQUIRE(qf::test::write_text(t / "assign", "=b:b:2:2:/b:::\n=c:c:3:3:/c:::\n.\n"));
  REQUIRE(f.refresh(&err));
  CHECK(look(f.table(), "a") == "-");
  CHECK(look(f.table(), "c") == "c:3:3:/c::");
  REQUIRE(qf::test::write_text(t / "assign", "garbage\n"));
  CHECK_FALSE(f.refresh(&err));
  CHECK(err.find("line 1") != std::string::npos);
  CHECK_FALSE(f.refresh(&err));  // still broken: still refused
  REQUIRE(unlink((t / "assign").c_str()) == 0);
  REQUIRE(f.refresh(&err));
  CHECK(f.table().size() == 0);
}

TEST_CASE("usermap: qmail-getpw's rules", "[usermap]") {
  FakePasswd f;
  f.add("alias", 7790);
  f.add("joe", 1000);
  f.add("joe-list", 1001);
  f.add("root", 0);
  f.add("nohome", 1002, false);
  f.add("stolen", 1003, true, 1000);  // home owned by someone else
  CHECK(getpw(f, "joe") == "joe:1000:100:/home/joe::");
  CHECK(getpw(f, "Joe") == "joe:1000:100:/home/joe::");
  CHECK(getpw(f, "joe-foo") == "joe:1000:100:/home/joe:-:foo");
  CHECK(getpw(f, "JOE-Foo-Bar") == "joe:1000:100:/home/joe:-:Foo-Bar");
  CHECK(getpw(f, "joe-list-x") == "joe-list:1001:100:/home/joe-list:-:x");
  CHECK(getpw(f, "joe-") == "joe:1000:100:/home/joe:-:");
  CHECK(getpw(f, "root") == "alias:7790:100:/home/alias:-:root");
  CHECK(getpw(f, "root-x") == "alias:7790:100:/home/alias:-:root-x");
  CHECK(getpw(f, "nohome") == "alias:7790:100:/home/alias:-:nohome");
  CHECK(getpw(f, "stolen") == "alias:7790:100:/home/alias:-:stolen");
  CHECK(getpw(f, "postmaster") == "alias:7790:100:/home/alias:-:postmaster");
  CHECK(getpw(f, "-joe") == "alias:7790:100:/home/alias:-:-joe");
  // Only prefixes shorter than 32 characters are tried.
  f.asked.clear();
  std::string long_local(40, 'a');
  CHECK(getpw(f, long_local + "-joe") == "alias:7790:100:/home/alias:-:" + long_local + "-joe");
  CHECK(f.asked == std::vector<std::string>{"alias"});
  f.asked.clear();
  CHECK(getpw(f, "a-b-c") == "alias:7790:100:/home/alias:-:a-b-c");
  CHECK(f.asked == std::vector<std::string>{"a-b-c", "a-b", "a", "alias"});

  f.broken = true;
  CHECK(getpw(f, "joe").rfind("error: ", 0) == 0);
  FakePasswd none;
  CHECK(getpw(none, "joe") == "error: Unable to find alias user! (#4.3.0)");
}
