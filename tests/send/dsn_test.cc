// ISC license.
// bouncestyle dsn: the RFC 3464 fields built from bounce/N's records.
#include <catch2/catch.hpp>

#include "send/bounce.h"

using namespace qf::send;

TEST_CASE("bounce records parse back", "[send][dsn]") {
  std::string data = bounce_record("a@x", "Remote host said: 550 5.1.1 no such user\n") +
                     bounce_record("b@y", "Sorry, no mailbox here by that name. (#5.1.1)\n");
  auto v = parse_bounce_records(data);
  REQUIRE(v.size() == 2);
  CHECK(v[0].rcpt == "a@x");
  CHECK(v[0].text == "Remote host said: 550 5.1.1 no such user\n");
  CHECK(v[1].rcpt == "b@y");
  CHECK(parse_bounce_records("<a@x>:\nno end").empty());
}

TEST_CASE("the status comes from the enhanced code, else a mapping", "[send][dsn]") {
  CHECK(dsn_status("Remote host said: 550 5.1.1 no such user\n", "5.0.0") == "5.1.1");
  CHECK(dsn_status("Sorry, no mailbox here by that name. (#5.1.1)\n", "5.0.0") == "5.1.1");
  CHECK(dsn_status("Remote host said: 550 rejected\n", "5.0.0") == "5.0.0");
  CHECK(dsn_status("Remote host said: 451 4.3.0 later\nI'm not going to try again; this message has been in the queue too long.\n",
                   "5.0.0") == "4.4.7");
  CHECK(dsn_status("I'm not going to try again; this message has been in the queue too long.\n", "5.0.0") == "4.4.7");
  CHECK(dsn_status("Remote host said: 451 4.3.0 later\n", "4.0.0") == "4.3.0");
  CHECK(dsn_status("version 1.2.3 of 10.5.1.1", "5.0.0") == "5.0.0");
}

TEST_CASE("the diagnostic code says smtp for a remote reply", "[send][dsn]") {
  CHECK(dsn_diagnostic("Remote host said: 550 5.1.1 no such user\n") == "smtp; 550 5.1.1 no such user");
  CHECK(dsn_diagnostic("Sorry, no mailbox here by that name. (#5.1.1)\n") ==
        "x-qmail; Sorry, no mailbox here by that name. (#5.1.1)");
  CHECK(dsn_diagnostic("a\nb\x01") == "x-qmail; a b?");
}

TEST_CASE("the delivery-status fields", "[send][dsn]") {
  DsnReport r;
  r.reporting_mta = "mx.example";
  r.arrival = 0;
  r.action = "failed";
  r.rcpts = {{"a@x", "Remote host said: 550 5.1.1 no\n"}};
  CHECK(dsn_fields(r) ==
        "Reporting-MTA: dns; mx.example\n\nFinal-Recipient: rfc822; a@x\nAction: failed\nStatus: 5.1.1\n"
        "Diagnostic-Code: smtp; 550 5.1.1 no\n");
  r.action = "delayed";
  r.rcpts = {{"a@x", "Remote host said: 451 try later\n"}};
  CHECK(dsn_fields(r).find("Status: 4.0.0\n") != std::string::npos);
}
