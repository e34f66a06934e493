// ISC license.
#include "smtpd/policy.h"

#include <catch2/catch.hpp>

using namespace qf::smtpd;

namespace {

std::string addr_of(std::string_view arg, std::string_view kw = "from:") {
  Path p;
  return parse_path(arg, kw, &p) == PathError::none ? "<" + p.address + ">" : "error";
}

}  // namespace

TEST_CASE("parse_path: qmail's address forms", "[smtpd][policy]") {
  CHECK(addr_of("FROM:<a@b.example>") == "<a@b.example>");
  CHECK(addr_of("from:<a@b.example>") == "<a@b.example>");
  CHECK(addr_of("From: <a@b.example>") == "<a@b.example>");
  CHECK(addr_of("FROM:<>") == "<>");
  CHECK(addr_of("FROM:a@b.example") == "<a@b.example>");  // RFC 821 violators, as qmail
  CHECK(addr_of("FROM:a@b.example SIZE=1") == "<a@b.example>");
  CHECK(addr_of("FROM:<@hop1,@hop2:u@d.example>") == "<u@d.example>");
  CHECK(addr_of("FROM:<\"john doe\"@d.example>") == "<john doe@d.example>");
  CHECK(addr_of("FROM:<a\\>b@d.example>") == "<a>b@d.example>");
  CHECK(addr_of("FROM:<\"a>b\"@d.example>") == "<a>b@d.example>");
  CHECK(addr_of("TO:<postmaster>", "to:") == "<postmaster>");
  CHECK(addr_of("TO:<u@d>", "from:") == "error");
  CHECK(addr_of("<a@b>") == "error");
  CHECK(addr_of("FROM:<a@b") == "error");
  CHECK(addr_of("FROM:<@hop1a@b>") == "error");

  Path p;
  CHECK(parse_path("FROM:<a@b> SIZE=100 BODY=8BITMIME", "from:", &p) == PathError::none);
  CHECK(p.params == "SIZE=100 BODY=8BITMIME");
  CHECK(parse_path(std::string("TO:<a\0b@d>", 10), "to:", &p) == PathError::bad_byte);
  CHECK(parse_path("TO:<a\tb@d>", "to:", &p) == PathError::bad_byte);
  CHECK(parse_path("TO:<a\x7f@d>", "to:", &p) == PathError::bad_byte);
  CHECK(parse_path("TO:<\xc3\xa9@d>", "to:", &p) == PathError::none);  // 8-bit is passed on
  std::string ok(max_address, 'x'), over(max_address + 1, 'x');
  CHECK(parse_path("TO:<" + ok + ">", "to:", &p) == PathError::none);
  CHECK(parse_path("TO:<" + over + ">", "to:", &p) == PathError::too_long);
}

TEST_CASE("mail_size_param", "[smtpd][policy]") {
  uint64_t n = 7;
  CHECK(mail_size_param("", &n));
  CHECK(n == 0);
  CHECK(mail_size_param("BODY=8BITMIME size=12345", &n));
  CHECK(n == 12345);
  CHECK_FALSE(mail_size_param("SIZE=12x", &n));
  CHECK_FALSE(mail_size_param("SIZE=", &n));
  CHECK_FALSE(mail_size_param("SIZE=99999999999999999999999", &n));
}

TEST_CASE("rcpthosts: domains, .suffixes, case, no file", "[smtpd][policy]") {
  HostList rh(true, {"example.org", ".example.net", "MiXeD.Example"});
  CHECK(rcpt_allowed(rh, "u@example.org"));
  CHECK(rcpt_allowed(rh, "u@EXAMPLE.ORG"));
  CHECK(rcpt_allowed(rh, "u@mixed.example"));
  CHECK_FALSE(rcpt_allowed(rh, "u@sub.example.org"));
  CHECK_FALSE(rcpt_allowed(rh, "u@badexample.org"));
  CHECK(rcpt_allowed(rh, "u@a.example.net"));
  CHECK(rcpt_allowed(rh, "u@a.b.example.net"));
  CHECK_FALSE(rcpt_allowed(rh, "u@example.net"));
  CHECK_FALSE(rcpt_allowed(rh, "u@evil.test"));
  CHECK(rcpt_allowed(rh, "postmaster"));  // no '@': qualified locally later
  CHECK(rcpt_allowed(rh, "\"a@b\"@example.org"));
  CHECK_FALSE(rcpt_allowed(rh, "u@example.org@evil.test"));
  CHECK_FALSE(rcpt_allowed(rh, "u@"));

  HostList none;  // no rcpthosts file: refuse relaying, unlike qmail 1.03
  CHECK_FALSE(rcpt_allowed(none, "u@example.org"));
  CHECK(rcpt_allowed(none, "postmaster"));
  HostList empty(true, {});
  CHECK_FALSE(rcpt_allowed(empty, "u@example.org"));
}

TEST_CASE("badmailfrom: whole address or @domain", "[smtpd][policy]") {
  HostList b(true, {"spammer@bad.example", "@worse.example"});
  CHECK(sender_refused(b, "spammer@bad.example"));
  CHECK(sender_refused(b, "SPAMMER@Bad.Example"));
  CHECK_FALSE(sender_refused(b, "other@bad.example"));
  CHECK(sender_refused(b, "anyone@worse.example"));
  CHECK_FALSE(sender_refused(b, "anyone@sub.worse.example"));
  CHECK_FALSE(sender_refused(b, ""));
  CHECK_FALSE(sender_refused(HostList(), "spammer@bad.example"));
}

TEST_CASE("received_line: qmail's form and alphabet", "[smtpd][policy]") {
  Peer p;
  p.remote_ip = "192.0.2.7";
  p.remote_host = "relay.example";
  p.local_host = "mx.example.org";
  time_t t = 812090814;  // 26 Sep 1995 04:46:54 UTC
  CHECK(received_line(p, "RELAY.example", t) ==
        "Received: from relay.example (192.0.2.7)\n"
        "  by mx.example.org with SMTP; 26 Sep 1995 04:46:54 -0000\n");
  p.remote_info = "7";
  CHECK(received_line(p, "uunet.example", t) ==
        "Received: from relay.example (HELO uunet.example) (7@192.0.2.7)\n"
        "  by mx.example.org with SMTP; 26 Sep 1995 04:46:54 -0000\n");
  p.remote_info.clear();
  CHECK(received_line(p, "x\r\nBcc: evil (a) [1.2.3.4]", t) ==
        "Received: from relay.example (HELO x??Bcc:?evil??a??[1.2.3.4]) (192.0.2.7)\n"
        "  by mx.example.org with SMTP; 26 Sep 1995 04:46:54 -0000\n");
  CHECK(received_safe("a.b@c%d+e/f=g:h-i[j]k_l m") == "a.b@c%d+e/f=g:h-i[j]k?l?m");
}
