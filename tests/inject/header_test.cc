// ISC license.
// The header half of qmail-inject: fields in, header and envelope out.
#include <catch2/catch.hpp>

#include "inject/hfield.h"
#include "inject/injector.h"
#include "sys/exitcodes.h"

using namespace qf::inject;

namespace {

Identity ident() {
  Identity id;
  id.user = "joe";
  id.now = 1795443786;  // 23 Nov 2026 14:23:06
  id.pid = 4242;
  return id;
}

Config config(Identity const& id) {
  Config c;
  REQUIRE(make_config(id, "host", "example.com", "plus.example.com", "id.example.com", &c).ok());
  return c;
}

struct Run {
  Result result;
  std::string header;
  std::string sender;
  std::vector<std::string> rcpts;
};

// Feeds the fields (each one whole, with its newline) and finishes.
Run run(std::vector<std::string> const& fields, Options opt = {}, Identity id = ident(),
        std::vector<std::string> lists = {}) {
  Config c = config(id);
  c.mailing_lists = std::move(lists);
  HeaderRewriter h(opt, id, c);
  Run r;
  r.result = h.start();
  if (!r.result.ok()) return r;
  for (auto const& f : fields) {
    r.result = h.field(f);
    if (!r.result.ok()) return r;
  }
  r.result = h.finish(&r.header);
  r.sender = h.sender();
  r.rcpts = h.recipients();
  return r;
}

using V = std::vector<std::string>;

Options header_only() {
  Options o;
  o.mode = Recipients::header;
  return o;
}
constexpr char const* kStamp =
    "Date: 23 Nov 2026 14:23:06 -0000\n"
    "Message-ID: <1795443786.4242.qmail@id.example.com>\n";

}  // namespace

TEST_CASE("hfield: names and field starts", "[inject]") {
  CHECK(field_kind("To: a\n") == Field::to);
  CHECK(field_kind("tO \t: a\n") == Field::to);
  CHECK(field_kind("RESENT-BCC:a\n") == Field::resent_bcc);
  CHECK(field_kind("Toto: a\n") == Field::other);
  CHECK(field_kind("To\n") == Field::other);
  CHECK(field_kind("Content-Length: 5\n") == Field::content_length);
  CHECK(starts_field("X-Foo: bar\n"));
  CHECK(starts_field("X-Foo:\n"));
  CHECK(starts_field("X-Foo  :bar\n"));
  CHECK_FALSE(starts_field("X Foo: bar\n"));
  CHECK_FALSE(starts_field(": bar\n"));
  CHECK_FALSE(starts_field(" cont: x\n"));
  CHECK_FALSE(starts_field("no colon here\n"));
  CHECK_FALSE(starts_field("X-\xc3\xa9: bar\n"));
  CHECK(field_name("Subject  : hi\n") == "Subject");
  CHECK(field_value("Subject: a: b\n") == " a: b\n");
}

TEST_CASE("inject header: the fields qmail-inject adds", "[inject]") {
  Run r = run({"Subject: hi\n", "To: fred\n"});
  REQUIRE(r.result.ok());
  CHECK(r.header == std::string(kStamp) +
                        "From: joe@host.example.com\n"
                        "Subject: hi\n"
                        "To: fred@host.example.com\n");
  CHECK(r.sender == "joe@host.example.com");
  CHECK(r.rcpts == V{"fred@host.example.com"});

  // all present: nothing added; the user's fields are kept as written
  r = run({"Date: Mon, 1 Jan 2024 00:00:00 +0000\n", "Message-Id: <x@y>\n",
           "From: Joe <joe@x.org>\n", "Cc: a@b.c\n"});
  REQUIRE(r.result.ok());
  CHECK(r.header ==
        "Date: Mon, 1 Jan 2024 00:00:00 +0000\nMessage-Id: <x@y>\nFrom: Joe <joe@x.org>\nCc: a@b.c\n");

  // neither To nor Cc: the RFC 822 empty group
  r = run({"Bcc: hidden@x.org\n"});
  REQUIRE(r.result.ok());
  CHECK(r.header == std::string(kStamp) +
                        "From: joe@host.example.com\n"
                        "Cc: recipient list not shown: ;\n");
  CHECK(r.rcpts == V{"hidden@x.org"});
}

TEST_CASE("inject header: From from the environment", "[inject]") {
  Identity id = ident();
  id.name = "Joe \"Bob\" Doe";
  id.host = "mail.example.net";
  Run r = run({"To: a@b.c\n"}, {}, id);
  REQUIRE(r.result.ok());
  CHECK(r.header.find("From: \"Joe \\\"Bob\\\" Doe\" <joe@mail.example.net>\n") != std::string::npos);
  CHECK(r.sender == "joe@mail.example.net");
  id.name_comment = true;
  id.host = "mailhost";
  r = run({"To: a@b.c\n"}, {}, id);
  CHECK(r.header.find("From: joe@mailhost.example.com (Joe \"Bob\" Doe)\n") != std::string::npos);
  // QMAILSUSER and QMAILSHOST move the envelope sender only
  id.suser = "bounces";
  id.shost = "lists.example.org";
  r = run({"To: a@b.c\n"}, {}, id);
  CHECK(r.sender == "bounces@lists.example.org");
  CHECK(r.header.find("From: joe@mailhost.example.com") != std::string::npos);
  // a name with a newline cannot add a field
  id.name = "Joe\nBcc: everyone@x.org";
  id.name_comment = false;
  r = run({"To: a@b.c\n"}, {}, id);
  CHECK(r.header.find("From: \"Joe Bcc: everyone@x.org\" <joe@mailhost.example.com>\n") !=
        std::string::npos);
  // a user name that needs quotes
  id = ident();
  id.user = "joe smith";
  r = run({"To: a@b.c\n"}, {}, id);
  CHECK(r.header.find("From: \"joe smith\"@host.example.com\n") != std::string::npos);
  CHECK(r.sender == "joe smith@host.example.com");
}

TEST_CASE("inject header: Bcc, Return-Path and Content-Length are removed", "[inject]") {
  Run r = run({"To: a@x.org\n", "Bcc: b@x.org,\n c@x.org\n", "Return-Path: <rp@x.org>\n",
               "Content-Length: 12\n", "Resent-Bcc: ignored@x.org\n", "Subject: s\n"},
              header_only());
  REQUIRE(r.result.ok());
  CHECK(r.header.find("Bcc") == std::string::npos);
  CHECK(r.header.find("Return-Path") == std::string::npos);
  CHECK(r.header.find("Content-Length") == std::string::npos);
  CHECK(r.header.find("Subject: s\n") != std::string::npos);
  // Resent-Bcc makes the message resent: recipients from Resent-* only
  CHECK(r.rcpts == V{"ignored@x.org"});
  CHECK(r.sender == "rp@x.org");

  r = run({"To: a@x.org\n", "Bcc: b@x.org,\n c@x.org\n", "Return-Path: <rp@x.org>\n"});
  REQUIRE(r.result.ok());
  CHECK(r.rcpts == V{"a@x.org", "b@x.org", "c@x.org"});
}

TEST_CASE("inject header: recipients from To, Cc, Bcc with groups and comments", "[inject]") {
  Run r = run({"To: Fred <fred@x.org>, friends: g@x.org, \"h h\"@x.org (H);,\n"
               "  wilma (Wilma F.)\n",
               "cc: barney@bedrock, \"Betty\" <betty>\n", "Apparently-To: app@x.org\n",
               "Bcc: \n", "BCC: hidden@x.org, fred@x.org\n"});
  REQUIRE(r.result.ok());
  CHECK(r.rcpts == V{"fred@x.org", "g@x.org", "h h@x.org", "wilma@host.example.com",
                     "barney@bedrock.example.com", "betty@host.example.com", "app@x.org",
                     "hidden@x.org"});
  // the fields are rewritten with the completed addresses
  CHECK(r.header.find("To: Fred <fred@x.org>, friends: g@x.org, \"h h\"@x.org (H);,\n"
                      "  wilma@host.example.com (Wilma F.)\n") != std::string::npos);
  CHECK(r.header.find("cc: barney@bedrock.example.com, \"Betty\" <betty@host.example.com>\n") !=
        std::string::npos);
}

TEST_CASE("inject header: recipient strategies -a -h -A -H", "[inject]") {
  V fields{"To: t@x.org\n"};
  Options o;
  o.recipients = {"arg@x.org"};
  o.mode = Recipients::args_else_header;
  CHECK(run(fields, o).rcpts == V{"arg@x.org"});
  o.mode = Recipients::args;
  CHECK(run(fields, o).rcpts == V{"arg@x.org"});
  o.mode = Recipients::header;
  CHECK(run(fields, o).rcpts == V{"t@x.org"});
  o.mode = Recipients::both;
  CHECK(run(fields, o).rcpts == V{"arg@x.org", "t@x.org"});
  o.recipients.clear();
  o.mode = Recipients::args_else_header;
  CHECK(run(fields, o).rcpts == V{"t@x.org"});
  // duplicates go once
  o.mode = Recipients::both;
  o.recipients = {"t@x.org", "u"};
  CHECK(run(fields, o).rcpts == V{"t@x.org", "u@host.example.com"});
  // -h ignores the arguments entirely, even bad ones
  o.mode = Recipients::header;
  o.recipients = {"bad@x y"};
  CHECK(run(fields, o).result.ok());
}

TEST_CASE("inject header: the envelope sender", "[inject]") {
  Options o;
  o.sender = "boss";
  Run r = run({"To: a@x.org\n", "Return-Path: <rp@x.org>\n"}, o);
  CHECK(r.sender == "boss@host.example.com");
  o.sender = "";
  CHECK(run({"To: a@x.org\n"}, o).sender == "");
  o.sender = "<>";
  CHECK(run({"To: a@x.org\n"}, o).sender == "");
  o.sender = "bad@x y";
  CHECK(run({"To: a@x.org\n"}, o).result.code == 100);
  // Return-Path: <> is the null sender
  r = run({"To: a@x.org\n", "Return-Path: <>\n"});
  CHECK(r.sender == "");
  CHECK(r.result.ok());
}

TEST_CASE("inject header: QMAILINJECT flags", "[inject]") {
  Identity id = ident();
  id.delete_from = true;
  id.delete_message_id = true;
  Run r = run({"From: someone@else.org\n", "Message-ID: <old@x>\n", "To: a@x.org\n"}, {}, id);
  CHECK(r.header == std::string(kStamp) + "From: joe@host.example.com\nTo: a@x.org\n");

  id = ident();
  id.ignore_return_path = true;
  r = run({"Return-Path: <rp@x.org>\n", "To: a@x.org\n"}, {}, id);
  CHECK(r.sender == "joe@host.example.com");
  CHECK(r.header.find("Return-Path") == std::string::npos);

  id = ident();
  id.verp_recipient = true;
  CHECK(run({"To: a@x.org\n"}, {}, id).sender == "joe-@host.example.com-@[]");
  Options o;
  o.sender = "list-@x.org";
  CHECK(run({"To: a@x.org\n"}, o, id).sender == "list-@x.org-@[]");
  o.sender = "";
  CHECK(run({"To: a@x.org\n"}, o, id).sender == "");

  id = ident();
  id.verp_message = true;
  CHECK(run({"To: a@x.org\n"}, {}, id).sender == "joe-1795443786.4242@host.example.com");
}

TEST_CASE("inject header: resent messages", "[inject]") {
  Run r = run({"From: orig@x.org\n", "To: orig-to@x.org\n", "Date: then\n",
               "Resent-To: fwd@x.org\n"});
  REQUIRE(r.result.ok());
  CHECK(r.header ==
        "Resent-Date: 23 Nov 2026 14:23:06 -0000\n"
        "Resent-Message-ID: <1795443786.4242.qmail@id.example.com>\n"
        "Resent-From: joe@host.example.com\n"
        "From: orig@x.org\nTo: orig-to@x.org\nDate: then\nResent-To: fwd@x.org\n");
  CHECK(r.rcpts == V{"fwd@x.org"});
  r = run({"To: orig-to@x.org\n", "Resent-From: me@x.org\n", "Resent-Bcc: b@x.org\n"});
  CHECK(r.header.find("Resent-Cc: recipient list not shown: ;\n") != std::string::npos);
  CHECK(r.header.find("Resent-From: joe") == std::string::npos);
  CHECK(r.rcpts == V{"b@x.org"});
}

TEST_CASE("inject header: fields that do not parse", "[inject]") {
  // a sender field must parse
  Run r = run({"From: joe@x.org>\n", "To: a@x.org\n"});
  CHECK(r.result.code == 100);
  CHECK(r.result.error == "unable to parse this line: From: joe@x.org>");
  // a recipient field may fail when its recipients are not needed...
  Options o;
  o.recipients = {"a@x.org"};
  r = run({"To: foo:bar\n"}, o);
  REQUIRE(r.result.ok());
  CHECK(r.header.find("To: foo:bar\n") != std::string::npos);
  // ...but not when they are
  r = run({"To: foo:bar\n", "Cc: ok@x.org\n"});
  CHECK(r.result.code == 100);
  CHECK(r.result.error == "unable to parse this line: To: foo:bar");
  // a NUL in an address cannot go into an envelope
  r = run({std::string("To: a\0b@x.org\n", 14)});
  CHECK(r.result.code == 100);
}

TEST_CASE("inject header: no recipients", "[inject]") {
  Run r = run({"Subject: nobody\n"});
  CHECK(r.result.code == 100);
  CHECK(r.result.error == "no recipients");
  r = run({"To: <>\n"});
  CHECK(r.result.code == 100);
  Options o;
  o.queue = false;  // printing needs none
  r = run({"Subject: nobody\n"}, o);
  CHECK(r.result.ok());
  CHECK(r.header.rfind("Return-Path: <joe@host.example.com>\n", 0) == 0);
}

TEST_CASE("inject header: bad arguments", "[inject]") {
  Options o;
  o.recipients = {"ok@x.org", "bad@x>"};
  Run r = run({}, o);
  CHECK(r.result.code == 100);
  CHECK(r.result.error == "unable to parse address: bad@x>");
}

TEST_CASE("inject header: Mail-Followup-To for mailing lists", "[inject]") {
  Run r = run({"To: List@Lists.example.org, fred@x.org\n"}, {}, ident(), {"list@lists.example.org"});
  CHECK(r.header.find("Mail-Followup-To: List@Lists.example.org,\n  fred@x.org\n") !=
        std::string::npos);
  r = run({"To: other@x.org\n"}, {}, ident(), {"list@lists.example.org"});
  CHECK(r.header.find("Mail-Followup-To") == std::string::npos);
  r = run({"To: list@lists.example.org\n", "Mail-Followup-To: me@x.org\n"}, {}, ident(),
          {"list@lists.example.org"});
  CHECK(r.header.find("Mail-Followup-To: list") == std::string::npos);
}

TEST_CASE("inject header: the header has a size limit", "[inject]") {
  Options o;
  o.recipients = {"a@x.org"};
  Identity id = ident();
  Config c = config(id);
  HeaderRewriter h(o, id, c);
  REQUIRE(h.start().ok());
  std::string f = "X-Big: " + std::string(kMaxField - 9, 'x') + "\n";
  Result res;
  size_t n = 0;
  while ((res = h.field(f)).ok()) n++;
  CHECK(res.code == 100);
  CHECK(n == kMaxHeader / f.size());
}
