// ISC license.
#include "queue/qq.h"

#include <unistd.h>

#include <catch2/catch.hpp>

#include <string>

#include "queue/select.h"
#include "sys/exitcodes.h"

TEST_CASE("qmail-queue: the Received line", "[qq]") {
  std::string r = qf::queue::received_line(4242, 123456, 1795443786);
  CHECK(r == "Received: (qmail 4242 invoked by uid 123456); 23 Nov 2026 14:23:06 -0000\n");
}

TEST_CASE("qmail-queue: the Received line's caller, looked up once per uid", "[qq]") {
  // An unknown uid is settled (no such account), and asked twice gives the same line.
  bool settled = false;
  CHECK(qf::queue::invoked_how(123457, &settled) == "by uid 123457");
  CHECK(settled);
  for (int i = 0; i < 2; i++)
    CHECK(qf::queue::received_line(7, 123457, 1795443786) ==
          "Received: (qmail 7 invoked by uid 123457); 23 Nov 2026 14:23:06 -0000\n");
  // Kept answers agree with fresh lookups, whatever accounts this machine has.
  for (uid_t u : {uid_t(0), uid_t(65534), ::getuid()}) {
    std::string fresh = qf::queue::invoked_how(u);
    for (int i = 0; i < 2; i++)
      CHECK(qf::queue::received_line(9, u, 1795443786) ==
            "Received: (qmail 9 invoked " + fresh + "); 23 Nov 2026 14:23:06 -0000\n");
  }
  // More uids than are kept: the table starts again and still answers.
  for (uid_t u = 200000; u < 200300; u++)
    REQUIRE(qf::queue::received_line(1, u, 0).find("invoked by uid " + std::to_string(u) + ")") !=
            std::string::npos);
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
  unsetenv("QUEUE_POLICY");
  setenv("QUEUE_BASE", "/nonexistent-base", 1);
  setenv("QUEUE_START", "3", 1);
  setenv("QUEUE_COUNT", "2", 1);
  int code = 0;
  bool seen3 = false, seen4 = false;
  for (int i = 0; i < 200; i++) {
    qf::queue::Choice c;
    REQUIRE(qf::queue::choose_queue("head", &c, &code));
    REQUIRE((c.dir == "/nonexistent-base/queue3" || c.dir == "/nonexistent-base/queue4"));
    seen3 |= c.number == 3;
    seen4 |= c.number == 4;
  }
  CHECK((seen3 && seen4));
  setenv("QUEUEDIR", "/elsewhere/q", 1);
  qf::queue::Choice c;
  REQUIRE(qf::queue::choose_queue("head", &c, &code));
  CHECK(c.dir == "/elsewhere/q");
  for (char const* v : {"QUEUEDIR", "QUEUE_BASE", "QUEUE_START", "QUEUE_COUNT"}) unsetenv(v);
  setenv("QMAILHOME", "/home/q", 1);
  qf::queue::Choice d;
  REQUIRE(qf::queue::choose_queue("head", &d, &code));
  CHECK(d.dir == "/home/q/queue");
  unsetenv("QMAILHOME");
}

TEST_CASE("qmail-queue: the hash policy is stable while the count is", "[qq]") {
  setenv("QUEUE_BASE", "/nonexistent-base", 1);
  setenv("QUEUE_COUNT", "4", 1);
  setenv("QUEUE_POLICY", "hash", 1);
  int code;
  unsigned spread[5] = {};
  for (int m = 0; m < 400; m++) {
    std::string head = "Message-ID: <" + std::to_string(m) + "@x>\n";
    qf::queue::Choice a, b;
    REQUIRE(qf::queue::choose_queue(head, &a, &code));
    REQUIRE(qf::queue::choose_queue(head, &b, &code));
    CHECK(a.number == b.number);
    REQUIRE(a.number >= 1);
    REQUIRE(a.number <= 4);
    spread[a.number]++;
  }
  for (int n = 1; n <= 4; n++) CHECK(spread[n] > 50);
  for (char const* v : {"QUEUE_BASE", "QUEUE_COUNT", "QUEUE_POLICY"}) unsetenv(v);
}
