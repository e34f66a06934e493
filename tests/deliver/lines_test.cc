// ISC license.
#include "deliver/lines.h"

#include <catch2/catch.hpp>

#include "addr/address.h"

using namespace qf::deliver;

TEST_CASE("lines: quote_address quotes only local parts that need it", "[lines]") {
  CHECK(quote_address("") == "");
  CHECK(quote_address("joe@example.com") == "joe@example.com");
  CHECK(quote_address("a.b+c-d=e@example.com") == "a.b+c-d=e@example.com");
  CHECK(quote_address("#@[]") == "#@[]");
  CHECK(quote_address("joe smith@example.com") == "\"joe smith\"@example.com");
  CHECK(quote_address(".joe@x") == "\".joe\"@x");
  CHECK(quote_address("joe.@x") == "\"joe.\"@x");
  CHECK(quote_address("a..b@x") == "\"a..b\"@x");
  CHECK(quote_address("a\"b\\c@x") == "\"a\\\"b\\\\c\"@x");
  CHECK(quote_address("a@b@c") == "\"a@b\"@c");
  CHECK(quote_address("nohost") == "nohost");
  CHECK(quote_address("caf\xc3\xa9@x") == "\"caf\xc3\xa9\"@x");
  CHECK(quote_address("@x") == "\"\"@x");
}

TEST_CASE("lines: Return-Path and Delivered-To", "[lines]") {
  CHECK(return_path_line("") == "Return-Path: <>\n");
  CHECK(return_path_line("a@b") == "Return-Path: <a@b>\n");
  CHECK(return_path_line("a\nb@c") == "Return-Path: <\"a\\_b\"@c>\n");
  CHECK(delivered_to_line("Joe-Ext", "Example.COM") == "Delivered-To: Joe-Ext@Example.COM\n");
  CHECK(delivered_to_line("a\nb", "c") == "Delivered-To: a_b@c\n");
  std::string dt = delivered_to_line("joe", "example.com");
  CHECK(is_our_delivered_to("Delivered-To: joe@example.com\n", dt));
  CHECK(is_our_delivered_to("delivered-to: JOE@example.com", dt));
  CHECK_FALSE(is_our_delivered_to("Delivered-To: joe@example.comx\n", dt));
  CHECK_FALSE(is_our_delivered_to("Delivered-To:  joe@example.com\n", dt));
  CHECK_FALSE(is_our_delivered_to("X-Delivered-To: joe@example.com\n", dt));
}

TEST_CASE("lines: the mbox From_ line", "[lines]") {
  time_t t = 1795445622;  // Mon Nov 23 14:53:42 2026 UTC
  CHECK(mbox_date(t) == "Mon Nov 23 14:53:42 2026");
  CHECK(mbox_date(0) == "Thu Jan 01 00:00:00 1970");
  CHECK(from_line("", t) == "From MAILER-DAEMON Mon Nov 23 14:53:42 2026\n");
  CHECK(from_line("a b\tc\nd@e", t) == "From a-b-c-d@e Mon Nov 23 14:53:42 2026\n");
}

TEST_CASE("lines: needs_from_quote is mboxrd's rule", "[lines]") {
  CHECK(needs_from_quote("From me\n"));
  CHECK(needs_from_quote("From "));
  CHECK(needs_from_quote(">From x"));
  CHECK(needs_from_quote(">>>From x"));
  CHECK_FALSE(needs_from_quote("From"));
  CHECK_FALSE(needs_from_quote("from x"));
  CHECK_FALSE(needs_from_quote(" From x"));
  CHECK_FALSE(needs_from_quote(">> From x"));
  CHECK_FALSE(needs_from_quote("Fromage"));
}

TEST_CASE("lines: VERP senders are expanded per recipient", "[lines]") {
  CHECK(qf::addr::verp_sender("owner-@lists.example-@[]", "joe@example.com") ==
        "owner-joe=example.com@lists.example");
  CHECK(qf::addr::verp_sender("owner@lists.example", "joe@example.com") == "owner@lists.example");
  CHECK(qf::addr::verp_sender("", "joe@example.com") == "");
  CHECK(qf::addr::verp_sender("owner-@x-@[]", "nohost") == "owner-@x-@[]");
  CHECK(qf::addr::verp_sender("noat-@[]", "joe@example.com") == "noat-@[]");
  CHECK(qf::addr::verp_sender("a-@b-@[]", "x@y@z") == "a-x@y=z@b");
}
