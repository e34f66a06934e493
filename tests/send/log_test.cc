// ISC license.
#include "send/log.h"

#include <catch2/catch.hpp>

#include "send/bounce.h"

using namespace qf::send;

TEST_CASE("qmail-log: lines byte for byte", "[log]") {
  CHECK(logsafe("a b%c\nd\x01\xff") == "a_b_c/d__");
  CHECK(log_new_msg(12) == "new msg 12");
  CHECK(log_info_msg(12, 345, "joe@x y", 77, 0) == "info msg 12: bytes 345 from <joe@x_y> qp 77 uid 0");
  CHECK(log_starting("3", 12, true, "joe@x") == "starting delivery 3: msg 12 to local joe@x");
  CHECK(log_starting("3.2", 12, false, "joe@x") == "starting delivery 3.2: msg 12 to remote joe@x");
  CHECK(log_result("3", 'K', "did 0+0+1/\n") == "delivery 3: success: did_0+0+1//");
  CHECK(log_result("3", 'Z', "temp") == "delivery 3: deferral: temp");
  CHECK(log_result("3", 'D', "perm") == "delivery 3: failure: perm");
  CHECK(log_result("3", '?', "x") == "delivery 3: report mangled, will defer");
  CHECK(log_status(1, 10, 2, 20) == "status: local 1/10 remote 2/20");
  CHECK(log_end_msg(12) == "end msg 12");
  CHECK(log_bounce_msg(12, 99) == "bounce msg 12 qp 99");
}

TEST_CASE("bounce: records and kinds", "[bounce]") {
  CHECK(bounce_record("joe@x", "Sorry, no mailbox here by that name. (#5.1.1)\n") ==
        "<joe@x>:\nSorry, no mailbox here by that name. (#5.1.1)\n\n");
  CHECK(bounce_record("joe@x", "a\n\nb") == "<joe@x>:\na\n/b\n\n");
  // A record is one paragraph whatever the report: no blank line after the
  // recipient's line either (tests/fuzz/regressions/bounce).
  CHECK(bounce_record("joe@x", "\nprogram said: no") == "<joe@x>:\n/program said: no\n\n");
  CHECK(bounce_record("joe@x", "\n\n\nx\n\n") == "<joe@x>:\n///x\n\n");
  CHECK(bounce_record("joe@x", "\n") == "<joe@x>:\n\n");
  CHECK(bounce_record("joe@x", "") == "<joe@x>:\n\n");
  CHECK(bounce_kind("a@b") == BounceKind::bounce);
  CHECK(bounce_kind("") == BounceKind::double_bounce);
  CHECK(bounce_kind("#@[]") == BounceKind::discard);
}
