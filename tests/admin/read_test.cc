// ISC license.
#include "admin/read.h"

#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <sys/time.h>

#include "../testutil.h"
#include "admin/format.h"
#include "queue/fix.h"
#include "queue/status.h"
#include "sys/fs.h"

using namespace qf;
using namespace qf::admin;
using queue::Dir;
using queue::Layout;

namespace {

Layout make_queue(std::string const& root) {
  Layout q(root, 7, false);
  queue::FixOptions o;
  std::string err;
  REQUIRE(queue::resolve_owners(&o.owners, &err));
  queue::FixReport r{[](std::string const&) {}, [](std::string const&) {}, [](std::string const&) {}};
  REQUIRE_FALSE(queue::fix_queue(q, o, r).failed);
  return q;
}

void put(std::string const& path, std::string const& data, time_t mtime = 0) {
  REQUIRE(write_file_atomic(path, data, 0600));
  if (mtime) {
    struct timeval tv[2] = {{mtime, 0}, {mtime, 0}};
    REQUIRE(::utimes(path.c_str(), tv) == 0);
  }
}

std::string rec(std::initializer_list<std::string> r) {
  std::string s;
  for (auto const& x : r) s += x + std::string(1, '\0');
  return s;
}

}  // namespace

TEST_CASE("admin: every state of a message is read from its files", "[admin]") {
  test::TempDir t;
  Layout q = make_queue(t / "q");
  time_t now = ::time(nullptr);
  // 10: pre-processed, deferred (remote/N's mtime is its next retry), with a status
  put(q.path(Dir::mess, 10), "Subject: a\n\nbody\n", now - 600);
  put(q.path(Dir::info, 10), rec({"Fs@a.example"}));
  put(q.path(Dir::remote, 10), rec({"Dx@done.example", "Ty@b.example", "Tz@b.example"}), now + 300);
  put(q.path(Dir::local, 10), rec({"Tu@test.example"}), now - 10);
  std::string st;
  queue::put_status(&st, 'R', uint64_t(now - 60), "y@b.example", "Connection refused\n");
  queue::put_status(&st, 'R', uint64_t(now - 5), "y@b.example", "451 later\n");
  put(q.path(Dir::defer, 10), st);
  // 11: in todo/
  put(q.path(Dir::mess, 11), "x", now - 30);
  put(q.path(Dir::todo, 11), rec({"u1000", "p42", "F", "Ta@c.example", ""}));
  // 12: held, due
  put(q.path(Dir::mess, 12), "xy", now - 100000);
  put(q.path(Dir::info, 12), rec({"Fh@d.example"}));
  put(q.path(Dir::remote, 12), rec({"Th@e.example"}), now - 100000);
  put(q.dir(Dir::hold) + "/12", "");
  // 13: moved aside
  put(q.dir(Dir::corrupt) + "/13.info", rec({"Fc@f.example"}));
  put(q.dir(Dir::corrupt) + "/13.remote", "Xbad");
  // 14: in mess/ only (being injected): not a queued message
  put(q.path(Dir::mess, 14), "x");

  Scan s;
  read_queue(q, 3, true, &s);
  CHECK(s.errors.empty());
  REQUIRE(s.messages.size() == 4);
  std::map<uint64_t, Message> by;
  for (auto const& m : s.messages) by[m.id] = m;
  Message const& d = by.at(10);
  CHECK(d.queue == 3);
  CHECK(d.sender == "s@a.example");
  CHECK(d.size == 17);
  CHECK(d.birth == now - 600);
  CHECK(d.state(now) == State::deferred);
  REQUIRE(d.rcpts.size() == 3);
  CHECK(d.rcpts[0].channel == 'L');
  CHECK(d.rcpts[0].status_when == 0);
  CHECK(d.rcpts[1].addr == "y@b.example");
  CHECK(d.rcpts[1].status == "451 later\n");
  CHECK(d.rcpts[1].status_when == uint64_t(now - 5));
  CHECK(d.rcpts[2].addr == "z@b.example");
  CHECK(d.rcpts[2].status_when == 0);
  CHECK(by.at(11).state(now) == State::incoming);
  CHECK(by.at(11).sender_known);
  CHECK(by.at(11).sender == "");
  REQUIRE(by.at(11).rcpts.size() == 1);
  CHECK(by.at(12).state(now) == State::hold);
  CHECK(by.at(13).state(now) == State::corrupt);
  CHECK(by.at(13).corrupt_files == "info remote");
  CHECK(by.at(13).sender == "c@f.example");
  // oldest first
  CHECK(s.messages[0].id == 12);

  Counts c = count_queue(q);
  CHECK(c.messages == 4);  // mess/ 10 11 12 14
  CHECK(c.todo == 1);

  std::string out;
  qread_message(d, now, &out);
  CHECK(out.find("  #10  17  <s@a.example>  queue3  age 10m  retry in 5m\n") != std::string::npos);
  CHECK(out.find("\tremote\ty@b.example\n\t\tlast attempt 5s ago: 451 later\n") != std::string::npos);
  CHECK(out.find("\tlocal\tu@test.example\n\tremote") != std::string::npos);
  CHECK(out.find("x@done.example") == std::string::npos);
  out.clear();
  qread_message(by.at(12), now, &out);
  CHECK(out.find("  held\n") != std::string::npos);
  out.clear();
  qread_lines(d, now, &out);
  CHECK(out.find("3\t10\tdeferred\t" + fmt_u64(uint64_t(now - 600)) + "\t17\ts@a.example\tremote\ty@b.example\t" +
                 fmt_u64(uint64_t(now - 5)) + "\t451 later\\n\n") != std::string::npos);
}

TEST_CASE("admin: ages and fields", "[admin]") {
  CHECK(fmt_age(0) == "0s");
  CHECK(fmt_age(59) == "59s");
  CHECK(fmt_age(600) == "10m");
  CHECK(fmt_age(3600 + 5 * 60) == "1h05m");
  CHECK(fmt_age(2 * 86400 + 4 * 3600) == "2d04h");
  CHECK(escape_field("a\tb\nc\\d\x01") == "a\\tb\\nc\\\\d\\x01");
}

TEST_CASE("admin: qshape counts each message once per domain, by age", "[admin]") {
  time_t now = 1000000;
  std::vector<Message> v;
  auto msg = [&](uint64_t id, time_t age, std::string sender, std::vector<std::string> rcpts) {
    Message m;
    m.id = id;
    m.birth = now - age;
    m.sender = sender;
    for (auto& r : rcpts) m.rcpts.push_back({'R', r, 0, ""});
    v.push_back(m);
  };
  msg(1, 60, "a@S.example", {"x@A.example", "y@a.example", "z@b.example"});
  msg(2, 6 * 60, "", {"x@a.example"});
  msg(3, 5000 * 60, "a@s.example", {"x@c.example"});
  msg(4, 60, "a@s.example", {"x@a.example"});
  v.back().held = true;
  ShapeOptions o;
  Shape s = shape(v, o, now);
  REQUIRE(s.header.size() == 11);
  CHECK(s.header[1] == "5");
  CHECK(s.header[9] == "1280");
  CHECK(s.header[10] == "1280+");
  CHECK(s.total.total == 3);  // 4 is held: not incoming or active
  CHECK(s.total.counts[0] == 1);
  CHECK(s.total.counts[1] == 1);
  CHECK(s.total.counts[9] == 1);
  REQUIRE(s.rows.size() == 3);
  CHECK(s.rows[0].name == "a.example");
  CHECK(s.rows[0].total == 2);
  std::string t = shape_text(s, 1);
  CHECK(t == "          T 5 10 20 40 80 160 320 640 1280 1280+\n"
             "    TOTAL 3 1  1  0  0  0   0   0   0    0     1\n"
             "a.example 2 1  1  0  0  0   0   0   0    0     0\n");
  o.by_sender = true;
  o.states = {State::hold};
  s = shape(v, o, now);
  CHECK(s.total.total == 1);
  REQUIRE(s.rows.size() == 1);
  CHECK(s.rows[0].name == "s.example");
  o.states = {State::active};
  s = shape(v, o, now);
  REQUIRE(s.rows.size() == 2);
  CHECK(shape_domain("", true) == "MAILER-DAEMON");
}
