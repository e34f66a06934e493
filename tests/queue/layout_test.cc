// ISC license.
#include "queue/layout.h"

#include <catch2/catch.hpp>

#include "sys/fs.h"

using namespace qf::queue;

TEST_CASE("layout: split paths", "[layout]") {
  Layout q("/q/", 23, false);
  CHECK(q.root() == "/q");
  CHECK(q.path(Dir::mess, 100) == "/q/mess/8/100");
  CHECK(q.path(Dir::info, 23) == "/q/info/0/23");
  CHECK(q.path(Dir::todo, 100) == "/q/todo/100");
  CHECK(q.path(Dir::intd, 100) == "/q/intd/100");
  CHECK(q.path(Dir::bounce, 100) == "/q/bounce/100");
  CHECK(q.relpath(Dir::mess, 100) == "mess/8/100");
  CHECK(q.dir_of(Dir::local, 47) == "/q/local/1");
  CHECK(q.lock("trigger") == "/q/lock/trigger");
  CHECK(q.pid_file(12, 1700000000, 3) == "/q/pid/12.1700000000.3");
}

TEST_CASE("layout: BIGTODO splits todo and intd", "[layout]") {
  Layout q("/q", 151, true);
  CHECK(q.path(Dir::todo, 302) == "/q/todo/0/302");
  CHECK(q.path(Dir::intd, 305) == "/q/intd/3/305");
  CHECK(q.relpath(Dir::todo, 305) == "todo/3/305");
  CHECK_FALSE(q.is_split(Dir::bounce));
}

TEST_CASE("layout: large ids are not truncated", "[layout]") {
  Layout q("/q", 151, false);
  uint64_t id = (uint64_t(1) << 40) + 7;
  CHECK(q.path(Dir::mess, id) == "/q/mess/" + qf::fmt_u64(id % 151) + "/" + qf::fmt_u64(id));
}

TEST_CASE("layout: the directory table matches qmail's owners and modes", "[layout]") {
  CHECK(spec(Dir::mess).mode == 0750);
  CHECK(spec(Dir::todo).mode == 0750);
  CHECK(spec(Dir::intd).mode == 0700);
  CHECK(spec(Dir::info).owner == qf::conf::User::qmails);
  CHECK(spec(Dir::pid).owner == qf::conf::User::qmailq);
  CHECK(dir_specs().size() == 12);
  for (auto const& d : dir_specs()) CHECK(&spec(d.dir) == &d);  // spec() indexes by the enum
  CHECK(spec(Dir::defer).owner == qf::conf::User::qmails);
  CHECK(spec(Dir::defer).split == SplitKind::split);
  bool trigger = false;
  for (auto const& l : lock_specs())
    if (std::string(l.name) == "trigger") trigger = l.fifo && l.mode == 0622;
  CHECK(trigger);
}

TEST_CASE("layout: message states", "[layout]") {
  Presence p;
  CHECK(classify(p) == State::S1);
  p.mess = true;
  CHECK(classify(p) == State::S2);
  p.intd = true;
  CHECK(classify(p) == State::S3);
  p.todo = true;
  CHECK(classify(p) == State::S4);
  p.info = p.local = true;
  CHECK(classify(p) == State::S4);  // pre-processing under way: still S4
  p.intd = p.todo = false;
  CHECK(classify(p) == State::S5);
  p.bounce = true;
  CHECK(classify(p) == State::S5);
  Presence orphan;
  orphan.info = true;
  CHECK(classify(orphan) == State::bad);
  Presence nomess;
  nomess.todo = true;
  CHECK(classify(nomess) == State::bad);
}
