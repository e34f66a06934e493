// ISC license.
#include "queue/fix.h"

#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <vector>

#include "../testutil.h"

using namespace qf::queue;
using qf::test::TempDir;

namespace {

struct Run {
  FixResult res;
  std::vector<std::string> changes, problems, errors;
};

Run fix(Layout const& q, bool dry = false) {
  Run r;
  FixOptions o;
  o.dry_run = dry;
  std::string err;
  REQUIRE(resolve_owners(&o.owners, &err));
  FixReport rep;
  rep.change = [&](std::string const& s) { r.changes.push_back(s); };
  rep.problem = [&](std::string const& s) { r.problems.push_back(s); };
  rep.error = [&](std::string const& s) { r.errors.push_back(s); };
  r.res = fix_queue(q, o, rep);
  return r;
}

bool mentions(std::vector<std::string> const& v, std::string const& s) {
  for (auto const& x : v)
    if (x.find(s) != std::string::npos) return true;
  return false;
}

mode_t mode_of(std::string const& p) {
  struct stat st;
  return lstat(p.c_str(), &st) == 0 ? (st.st_mode & 07777) : 0;
}

}  // namespace

TEST_CASE("queue-fix: creates a whole queue, then finds nothing to do", "[fix]") {
  TempDir t;
  Layout q(t / "a/queue", 7, false);
  Run dry = fix(q, true);
  CHECK(dry.res.changes > 0);
  CHECK(access(q.root().c_str(), F_OK) != 0);  // -N changed nothing
  Run first = fix(q);
  CHECK_FALSE(first.res.failed);
  CHECK(first.res.changes == dry.res.changes);
  CHECK(mode_of(q.root()) == 0751);
  CHECK(mode_of(q.subdir(Dir::mess, 6)) == 0750);
  CHECK(mode_of(q.subdir(Dir::remote, 0)) == 0700);
  CHECK(access(q.subdir(Dir::mess, 7).c_str(), F_OK) != 0);
  struct stat st;
  REQUIRE(lstat(q.lock("trigger").c_str(), &st) == 0);
  CHECK(S_ISFIFO(st.st_mode));
  CHECK((st.st_mode & 07777) == 0622);
  REQUIRE(lstat(q.lock("tcpto").c_str(), &st) == 0);
  CHECK(st.st_size == 2048);  // 64 records of 32 bytes (remote/tcpto.h)
  CHECK(layout_matches(q));
  CHECK_FALSE(layout_matches(Layout(q.root(), 5, false)));
  CHECK_FALSE(layout_matches(Layout(q.root(), 11, false)));
  CHECK_FALSE(layout_matches(Layout(q.root(), 7, true)));
  Run second = fix(q);
  CHECK(second.res.changes == 0);
  CHECK(second.res.problems == 0);
}

TEST_CASE("queue-fix: repairs missing directories and wrong modes", "[fix]") {
  TempDir t;
  Layout q(t / "queue", 5, false);
  fix(q);
  REQUIRE(rmdir(q.subdir(Dir::info, 3).c_str()) == 0);
  REQUIRE(chmod(q.dir(Dir::todo).c_str(), 0777) == 0);
  REQUIRE(unlink(q.lock("trigger").c_str()) == 0);
  Run dry = fix(q, true);
  CHECK(dry.res.changes == 3);
  CHECK(mentions(dry.changes, "would create directory " + q.subdir(Dir::info, 3)));
  CHECK(mode_of(q.dir(Dir::todo)) == 0777);
  Run r = fix(q);
  CHECK(r.res.changes == 3);
  CHECK(mode_of(q.dir(Dir::todo)) == 0750);
  CHECK(access(q.lock("trigger").c_str(), F_OK) == 0);
  CHECK(fix(q).res.changes == 0);
}

TEST_CASE("queue-fix: a changed split moves message files", "[fix]") {
  TempDir t;
  Layout old(t / "queue", 7, false);
  fix(old);
  // A real message file named by its inode, and its info file.
  std::string tmp = old.dir(Dir::pid) + "/x";
  REQUIRE(qf::test::write_text(tmp, "body"));
  struct stat st;
  REQUIRE(stat(tmp.c_str(), &st) == 0);
  uint64_t id = st.st_ino;
  REQUIRE(rename(tmp.c_str(), old.path(Dir::mess, id).c_str()) == 0);
  REQUIRE(qf::test::write_text(old.path(Dir::info, id), std::string("Fa@b\0", 5)));
  REQUIRE(chmod(old.path(Dir::info, id).c_str(), 0600) == 0);
  REQUIRE(chmod(old.path(Dir::mess, id).c_str(), 0644) == 0);

  Layout now(t / "queue", 3, false);
  Run r = fix(now);
  CHECK_FALSE(r.res.failed);
  CHECK(r.res.problems == 0);
  CHECK(access(now.path(Dir::mess, id).c_str(), F_OK) == 0);
  CHECK(access(now.path(Dir::info, id).c_str(), F_OK) == 0);
  CHECK(access(now.subdir(Dir::mess, 6).c_str(), F_OK) != 0);  // old bucket removed
  CHECK(fix(now).res.changes == 0);

  // BIGTODO on: todo files move into buckets.
  REQUIRE(qf::test::write_text(now.path(Dir::todo, id), std::string("Fa@b\0", 5)));
  REQUIRE(chmod(now.path(Dir::todo, id).c_str(), 0644) == 0);
  Layout big(t / "queue", 3, true);
  fix(big);
  CHECK(access(big.path(Dir::todo, id).c_str(), F_OK) == 0);
  CHECK(big.path(Dir::todo, id) != now.path(Dir::todo, id));
}

TEST_CASE("queue-fix: reports what it will not decide", "[fix]") {
  TempDir t;
  Layout q(t / "queue", 5, false);
  fix(q);
  REQUIRE(qf::test::write_text(q.dir(Dir::mess) + "/notes.txt", "x"));
  REQUIRE(qf::test::write_text(q.path(Dir::mess, 4242), "not its inode"));
  REQUIRE(chmod(q.path(Dir::mess, 4242).c_str(), 0644) == 0);
  REQUIRE(qf::test::write_text(q.path(Dir::info, 99), "F\0"));
  REQUIRE(chmod(q.path(Dir::info, 99).c_str(), 0600) == 0);
  REQUIRE(unlink(q.lock("sendmutex").c_str()) == 0);
  REQUIRE(mkdir(q.lock("sendmutex").c_str(), 0700) == 0);
  Run r = fix(q);
  CHECK(r.res.problems == 4);
  CHECK(mentions(r.problems, "stray file " + q.dir(Dir::mess) + "/notes.txt"));
  CHECK(mentions(r.problems, "not its name"));
  CHECK(mentions(r.problems, q.path(Dir::info, 99) + " has no message"));
  CHECK(mentions(r.problems, "wrong file type"));
  CHECK(access((q.dir(Dir::mess) + "/notes.txt").c_str(), F_OK) == 0);  // left alone
}
