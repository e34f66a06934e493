// ISC license.
#include "queue/qq.h"

#include <catch2/catch.hpp>

#include "queue/select.h"
#include "sys/exitcodes.h"

TEST_CASE("qmail-queue: the Received line", "[qq]") {
  std::string r = qf::queue::received_line(4242, 123456, 1795443786);
  CHECK(r == "Received: (qmail 4242 invoked by uid 123456); 23 Nov 2026 14:23:06 -0000\n");
}

TEST_CASE("qmail-queue: exit code classes", "[qq]") {
  CHECK(qf::qq::permanent(qf::qq::addr_too_long));
  CHECK_FALSE(qf::qq::permanent(qf::qq::write));
  CHECK_FALSE(qf::qq::permanent(qf::qq::envelope));  // 91: djb calls it temporary too
  CHECK(std::string(qf::qq::describe(qf::qq::write)).rfind("Z", 0) == 0);
  CHECK(std::string(qf::qq::describe(qf::qq::addr_too_long)).rfind("D", 0) == 0);
  CHECK(std::string(qf::qq::describe(qf::qq::envelope)) == "Zqq internal bug (#4.3.0)");
}

TEST_CASE("qmail-queue: queue selection from the environment", "[qq]") {
  unsetenv("QUEUEDIR");
  setenv("QUEUE_BASE", "/base", 1);
  setenv("QUEUE_START", "3", 1);
  setenv("QUEUE_COUNT", "2", 1);
  std::string dir;
  int code = 0;
  bool seen3 = false, seen4 = false;
  for (int i = 0; i < 200; i++) {
    REQUIRE(qf::queue::choose_queue(&dir, &code));
    REQUIRE((dir == "/base/queue3" || dir == "/base/queue4"));
    seen3 |= dir == "/base/queue3";
    seen4 |= dir == "/base/queue4";
  }
  CHECK((seen3 && seen4));
  setenv("QUEUEDIR", "/elsewhere/q", 1);
  REQUIRE(qf::queue::choose_queue(&dir, &code));
  CHECK(dir == "/elsewhere/q");
  for (char const* v : {"QUEUEDIR", "QUEUE_BASE", "QUEUE_START", "QUEUE_COUNT"}) unsetenv(v);
  setenv("QMAILHOME", "/home/q", 1);
  REQUIRE(qf::queue::choose_queue(&dir, &code));
  CHECK(dir == "/home/q/queue");
  unsetenv("QMAILHOME");
}
