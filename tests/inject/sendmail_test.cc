// ISC license.
#include "inject/sendmail.h"

#include <catch2/catch.hpp>

using namespace qf::inject;

namespace {

SendmailRequest parse(std::vector<char const*> args, bool* ok = nullptr) {
  SendmailRequest r;
  bool good = parse_sendmail(int(args.size()), args.data(), &r);
  if (ok)
    *ok = good;
  else
    REQUIRE(good);
  return r;
}

}  // namespace

TEST_CASE("sendmail: the usual command lines", "[inject]") {
  SendmailRequest r = parse({"sendmail", "-oi", "-t"});
  CHECK(r.from_headers);
  CHECK(r.recipients.empty());
  CHECK(r.refusal.empty());

  r = parse({"/usr/sbin/sendmail", "-i", "-f", "bounce@x.org", "-FJoe Doe", "a@x.org", "b"});
  CHECK_FALSE(r.from_headers);
  CHECK(r.sender == "bounce@x.org");
  CHECK(r.fullname == "Joe Doe");
  CHECK(r.recipients == std::vector<std::string>{"a@x.org", "b"});

  r = parse({"sendmail", "-FCronDaemon", "-i", "-B8BITMIME", "-oem", "-odb", "-bm", "-U", "-G",
             "-N", "never", "-rroot@x.org", "--", "-dash@x.org"});
  CHECK(r.sender == "root@x.org");
  CHECK(r.fullname == "CronDaemon");
  CHECK(r.recipients == std::vector<std::string>{"-dash@x.org"});
  CHECK(r.refusal.empty());

  r = parse({"sendmail", "-ti", "a@x.org", "-f", "x"});  // options end at the first recipient
  CHECK(r.from_headers);
  CHECK(r.recipients == std::vector<std::string>{"a@x.org", "-f", "x"});
}

TEST_CASE("sendmail: modes that are refused", "[inject]") {
  CHECK(parse({"sendmail", "-bs"}).refusal.find("qmail-smtpd") != std::string::npos);
  CHECK(parse({"sendmail", "-bp"}).refusal.empty());
  CHECK(parse({"sendmail", "-bp"}).list_queue);
  CHECK(parse({"/usr/bin/mailq"}).list_queue);
  CHECK_FALSE(parse({"sendmail", "a@x.org"}).list_queue);
  CHECK(parse({"sendmail", "-q"}).refusal.empty());
  CHECK(parse({"sendmail", "-q"}).flush == std::string());
  CHECK(parse({"sendmail", "-qRexample.com"}).flush == std::string("example.com"));
  CHECK(parse({"sendmail", "-qR", "example.com"}).flush == std::string("example.com"));
  CHECK(parse({"sendmail", "-qSjoe@example.com"}).flush_sender == std::string("joe@example.com"));
  CHECK(parse({"sendmail", "-qS", "<>"}).flush_sender == std::string("<>"));
  CHECK(parse({"sendmail", "-qS", "<>"}).refusal.empty());
  CHECK_FALSE(parse({"sendmail", "-qSx"}).flush.has_value());
  CHECK(parse({"sendmail", "-q30m"}).refusal.find("-qTIME") != std::string::npos);
  CHECK(parse({"newaliases"}).refusal.find("newaliases") != std::string::npos);
  CHECK(parse({"sendmail", "-bi"}).refusal.find("newaliases") != std::string::npos);
  CHECK(parse({"sendmail", "-bd"}).refusal.find("daemon") != std::string::npos);
  CHECK(parse({"sendmail", "-bv"}).refusal.empty());
  CHECK(parse({"sendmail", "-bv", "a@x.org"}).verify);
  CHECK(parse({"sendmail", "-bt"}).refusal == "mode -bt is not supported");
}

TEST_CASE("sendmail: usage errors", "[inject]") {
  bool ok = true;
  parse({"sendmail", "-f"}, &ok);
  CHECK_FALSE(ok);
  parse({"sendmail", "-Z"}, &ok);
  CHECK_FALSE(ok);
  parse({"sendmail", "-tZ"}, &ok);
  CHECK_FALSE(ok);
}

TEST_CASE("sendmail: mapped onto qmail-inject", "[inject]") {
  Options o;
  Identity id;
  id.user = "joe";
  id.host = "old.example.org";
  id.name = "Joe";
  SendmailRequest r = parse({"sendmail", "-t", "x@y.org"});
  sendmail_to_inject(r, &o, &id);
  CHECK(o.mode == Recipients::both);
  CHECK(o.recipients == std::vector<std::string>{"x@y.org"});
  CHECK_FALSE(o.sender);
  CHECK(id.user == "joe");

  o = {};
  r = parse({"sendmail", "-f", "<list-bounce@lists.example.org>", "-F", "The List", "x@y.org"});
  sendmail_to_inject(r, &o, &id);
  CHECK(o.mode == Recipients::args);
  CHECK(o.sender == "<list-bounce@lists.example.org>");
  CHECK(id.user == "list-bounce");
  CHECK(id.host == "lists.example.org");
  CHECK(id.name == "The List");

  o = {};
  id.host = "keep.example.org";
  r = parse({"sendmail", "-f", "daemon", "x@y.org"});
  sendmail_to_inject(r, &o, &id);
  CHECK(id.user == "daemon");
  CHECK_FALSE(id.host);
  CHECK_FALSE(id.name);

  o = {};
  id.user = "joe";
  r = parse({"sendmail", "-f", "", "x@y.org"});  // null sender: the From stays
  sendmail_to_inject(r, &o, &id);
  CHECK(o.sender == "");
  CHECK(id.user == "joe");
}
