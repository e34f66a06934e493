// ISC license.
#include "smtpd/session.h"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

using namespace qf::smtpd;

namespace {

// Records what qmail-queue would have been given.
struct FakeSink : Sink {
  struct Message {
    std::string data, sender;
    std::vector<std::string> rcpts;
  };
  bool fail_open = false;
  int code = 0;  // qmail-queue's exit code to report
  bool opened = false;
  std::string data;
  std::vector<Message> queued;
  int aborts = 0;
  int commits = 0;

  bool open() override {
    if (fail_open) return false;
    opened = true;
    data.clear();
    return true;
  }
  uint64_t qp() const override { return 4242; }
  void put(std::string_view s) override {
    REQUIRE(opened);
    data.append(s);
  }
  int commit(std::string_view sender, std::vector<std::string> const& rcpts) override {
    REQUIRE(opened);
    opened = false;
    commits++;
    if (code == 0) queued.push_back({data, std::string(sender), rcpts});
    return code;
  }
  void abort() override {
    REQUIRE(opened);
    opened = false;
    aborts++;
  }
};

Config config() {
  Config c;
  c.greeting = "mx.example.org";
  c.localiphost = "mx.example.org";
  c.peer.remote_ip = "192.0.2.7";
  c.peer.remote_host = "unknown";
  c.peer.local_ip = "192.0.2.1";
  c.peer.local_host = "mx.example.org";
  c.rcpthosts = HostList(true, {"example.org", ".example.net"});
  return c;
}

time_t fixed_clock() { return 1000000000; }

// A session with its sink; talk() feeds input (in pieces of step bytes) and
// returns the reply lines produced.
struct Client {
  explicit Client(Config c = config()) : session(std::move(c), &sink, fixed_clock) {
    session.start();
    greeting = take();
  }
  std::vector<std::string> take() {
    std::vector<std::string> lines;
    std::string& out = session.replies();
    size_t pos = 0, crlf;
    while ((crlf = out.find("\r\n", pos)) != std::string::npos) {
      lines.push_back(out.substr(pos, crlf - pos));
      pos = crlf + 2;
    }
    REQUIRE(pos == out.size());  // every reply ends with CR LF
    out.clear();
    return lines;
  }
  std::vector<std::string> talk(std::string const& in, size_t step = 0) {
    if (step == 0) step = in.size() ? in.size() : 1;
    for (size_t i = 0; i < in.size(); i += step) session.feed(std::string_view(in).substr(i, step));
    return take();
  }
  std::string one(std::string const& in) {
    auto r = talk(in);
    REQUIRE(r.size() == 1);
    return r[0];
  }
  FakeSink sink;
  Session session;
  std::vector<std::string> greeting;
};

using Lines = std::vector<std::string>;

// The message as stored, without the Received line (its first two lines).
std::string body_of(std::string const& data) {
  size_t first = data.find('\n');
  REQUIRE(data.compare(0, 15, "Received: from ") == 0);
  size_t second = data.find('\n', first + 1);
  return data.substr(second + 1);
}

}  // namespace

TEST_CASE("session: greeting, HELO, EHLO and the simple commands", "[smtpd][session]") {
  Client c;
  CHECK(c.greeting == Lines{"220 mx.example.org ESMTP"});
  CHECK(c.talk("HELO client.example\r\n") == Lines{"250 mx.example.org"});
  CHECK(c.talk("EHLO client.example\r\n") ==
        Lines{"250-mx.example.org", "250-PIPELINING", "250 8BITMIME"});
  CHECK(c.one("NOOP\r\n") == "250 ok");
  CHECK(c.one("noop with args\r\n") == "250 ok");
  CHECK(c.one("RSET\r\n") == "250 flushed");
  CHECK(c.one("VRFY root\r\n") == "252 send some mail, i'll try my best");
  CHECK(c.one("HELP\r\n").compare(0, 4, "214 ") == 0);
  CHECK(c.one("EXPN list\r\n") == "502 unimplemented (#5.5.1)");
  CHECK(c.one("STARTTLS\r\n") == "502 unimplemented (#5.5.1)");
  CHECK(c.one("BDAT 10 LAST\r\n") == "502 unimplemented (#5.5.1)");
  CHECK(c.one("\r\n") == "502 unimplemented (#5.5.1)");
  CHECK(c.one("MAILX FROM:<a@b>\r\n") == "502 unimplemented (#5.5.1)");
  CHECK_FALSE(c.session.finished());
  CHECK(c.one("QuIt\r\n") == "221 mx.example.org");
  CHECK(c.session.finished());
  CHECK(c.session.exit_code() == 0);
  CHECK_FALSE(c.session.linger());
  CHECK(c.talk("NOOP\r\n").empty());  // nothing is read after QUIT

  Config big = config();
  big.databytes = 1000000;
  Client d(big);
  CHECK(d.talk("EHLO x\r\n") ==
        Lines{"250-mx.example.org", "250-PIPELINING", "250-8BITMIME", "250 SIZE 1000000"});
}

TEST_CASE("session: a message is queued with its envelope and exact bytes", "[smtpd][session]") {
  Client c;
  CHECK(c.talk("HELO client.example\r\n"
               "MAIL FROM:<a@sender.example>\r\n"
               "RCPT TO:<u@example.org>\r\n"
               "RCPT TO:<v@sub.example.net>\r\n"
               "DATA\r\n") == Lines{"250 mx.example.org", "250 ok", "250 ok", "250 ok", "354 go ahead"});
  CHECK(c.talk("Subject: hi\r\n\r\n..stuffed\r\n.\r\n") == Lines{"250 ok 1000000000 qp 4242"});
  REQUIRE(c.sink.queued.size() == 1);
  auto const& m = c.sink.queued[0];
  CHECK(m.sender == "a@sender.example");
  CHECK(m.rcpts == Lines{"u@example.org", "v@sub.example.net"});
  CHECK(m.data ==
        "Received: from unknown (HELO client.example) (192.0.2.7)\n"
        "  by mx.example.org with SMTP; 9 Sep 2001 01:46:40 -0000\n"
        "Subject: hi\n\n.stuffed\n");
  // The transaction is over: a new one may start, DATA alone may not.
  CHECK(c.one("DATA\r\n") == "503 MAIL first (#5.5.1)");
  CHECK(c.one("MAIL FROM:<>\r\n") == "250 ok");
  CHECK(c.one("RCPT TO:<postmaster>\r\n") == "250 ok");
  CHECK(c.talk("DATA\r\n.\r\n") == Lines{"354 go ahead", "250 ok 1000000000 qp 4242"});
  REQUIRE(c.sink.queued.size() == 2);
  CHECK(c.sink.queued[1].sender.empty());
  CHECK(body_of(c.sink.queued[1].data).empty());
}

TEST_CASE("session: out-of-sequence commands get 503", "[smtpd][session]") {
  Client c;
  CHECK(c.one("RCPT TO:<u@example.org>\r\n") == "503 MAIL first (#5.5.1)");
  CHECK(c.one("DATA\r\n") == "503 MAIL first (#5.5.1)");
  CHECK(c.one("MAIL FROM:<a@b.example>\r\n") == "250 ok");
  CHECK(c.one("MAIL FROM:<a@b.example>\r\n") == "503 nested MAIL command (#5.5.1)");
  CHECK(c.one("DATA\r\n") == "503 RCPT first (#5.5.1)");
  CHECK(c.one("RSET\r\n") == "250 flushed");
  CHECK(c.one("RCPT TO:<u@example.org>\r\n") == "503 MAIL first (#5.5.1)");
  // HELO and EHLO end a transaction too, as in qmail.
  CHECK(c.one("MAIL FROM:<a@b.example>\r\n") == "250 ok");
  CHECK(c.one("RCPT TO:<u@example.org>\r\n") == "250 ok");
  CHECK(c.talk("EHLO again\r\n").size() == 3);
  CHECK(c.one("DATA\r\n") == "503 MAIL first (#5.5.1)");
  CHECK(c.sink.commits == 0);
  CHECK_FALSE(c.session.finished());
}

TEST_CASE("session: syntax errors", "[smtpd][session]") {
  Client c;
  CHECK(c.one("MAIL <a@b>\r\n") == "555 syntax error (#5.5.4)");
  CHECK(c.one("MAIL FROM:<a@b\r\n") == "555 syntax error (#5.5.4)");
  CHECK(c.one("MAIL FROM:<a@b> SIZE=lots\r\n") == "555 syntax error (#5.5.4)");
  CHECK(c.one("MAIL FROM:<" + std::string(901, 'a') + ">\r\n") == "555 syntax error (#5.5.4)");
  CHECK(c.one("MAIL FROM:<a@b>\r\n") == "250 ok");
  CHECK(c.one("RCPT TO:<u@example.org\r\n") == "555 syntax error (#5.5.4)");
  CHECK(c.one("RCPT FROM:<u@example.org>\r\n") == "555 syntax error (#5.5.4)");
  CHECK(c.one(std::string("RCPT TO:<u\0Tx@example.org>\r\n", 28)) == "555 syntax error (#5.5.4)");
  CHECK(c.one("RCPT TO:<u\x01@example.org>\r\n") == "555 syntax error (#5.5.4)");
  CHECK(c.one("RCPT TO:<>\r\n") == "555 syntax error (#5.5.4)");
  CHECK(c.one("RCPT TO:u@example.org\r\n") == "250 ok");  // qmail's tolerance
}

TEST_CASE("session: rcpthosts, RELAYCLIENT and localiphost", "[smtpd][session]") {
  std::string const nogw = "553 sorry, that domain isn't in my list of allowed rcpthosts (#5.7.1)";
  Client c;
  c.talk("MAIL FROM:<a@b.example>\r\n");
  CHECK(c.one("RCPT TO:<u@evil.example>\r\n") == nogw);
  CHECK(c.one("RCPT TO:<u@example.net>\r\n") == nogw);
  CHECK(c.one("RCPT TO:<u@EXAMPLE.org>\r\n") == "250 ok");
  CHECK(c.one("RCPT TO:<u@deep.sub.example.net>\r\n") == "250 ok");
  CHECK(c.one("RCPT TO:<u%evil.example@example.org>\r\n") == "250 ok");
  // u@[our ip] becomes u@localiphost, which must itself be in rcpthosts: not here.
  CHECK(c.one("RCPT TO:<u@[192.0.2.1]>\r\n") == nogw);
  CHECK(c.one("RCPT TO:<u@[192.0.2.99]>\r\n") == nogw);
  Config lip = config();
  lip.rcpthosts = HostList(true, {"mx.example.org"});
  Client l(lip);
  l.talk("MAIL FROM:<a@b.example>\r\n");
  CHECK(l.one("RCPT TO:<u@[192.0.2.1]>\r\n") == "250 ok");
  l.talk("DATA\r\n.\r\n");
  REQUIRE(l.sink.queued.size() == 1);
  CHECK(l.sink.queued[0].rcpts == Lines{"u@mx.example.org"});

  Config norh = config();
  norh.rcpthosts = HostList();  // no rcpthosts file: no relaying at all
  Client n(norh);
  n.talk("MAIL FROM:<a@b.example>\r\n");
  CHECK(n.one("RCPT TO:<u@example.org>\r\n") == nogw);
  CHECK(n.one("RCPT TO:<postmaster>\r\n") == "250 ok");

  Config relay = norh;
  relay.relay_client = true;
  Client r(relay);
  r.talk("MAIL FROM:<a@b.example>\r\n");
  CHECK(r.one("RCPT TO:<u@anywhere.example>\r\n") == "250 ok");
  relay.relay_suffix = ".relayed";
  Client r2(relay);
  r2.talk("MAIL FROM:<a@b.example>\r\n");
  CHECK(r2.one("RCPT TO:<u@anywhere.example>\r\n") == "250 ok");
  r2.talk("DATA\r\n.\r\n");
  REQUIRE(r2.sink.queued.size() == 1);
  CHECK(r2.sink.queued[0].rcpts == Lines{"u@anywhere.example.relayed"});
}

TEST_CASE("session: badmailfrom refuses every recipient", "[smtpd][session]") {
  std::string const bmf = "553 sorry, your envelope sender is in my badmailfrom list (#5.7.1)";
  Config cfg = config();
  cfg.badmailfrom = HostList(true, {"spam@bad.example", "@worse.example"});
  Client c(cfg);
  CHECK(c.one("MAIL FROM:<Spam@Bad.Example>\r\n") == "250 ok");  // refused at RCPT, as qmail
  CHECK(c.one("RCPT TO:<u@example.org>\r\n") == bmf);
  CHECK(c.one("DATA\r\n") == "503 RCPT first (#5.5.1)");
  c.talk("RSET\r\n");
  CHECK(c.one("MAIL FROM:<x@worse.example>\r\n") == "250 ok");
  CHECK(c.one("RCPT TO:<u@example.org>\r\n") == bmf);
  c.talk("RSET\r\n");
  CHECK(c.one("MAIL FROM:<ham@bad.example>\r\n") == "250 ok");
  CHECK(c.one("RCPT TO:<u@example.org>\r\n") == "250 ok");
}

TEST_CASE("session: databytes and SIZE", "[smtpd][session]") {
  std::string const big = "552 sorry, that message size exceeds my databytes limit (#5.3.4)";
  Config cfg = config();
  cfg.databytes = 20;
  Client c(cfg);
  CHECK(c.one("MAIL FROM:<a@b> SIZE=21\r\n") == big);
  CHECK(c.one("MAIL FROM:<a@b> SIZE=20 BODY=8BITMIME\r\n") == "250 ok");
  c.talk("RCPT TO:<u@example.org>\r\nDATA\r\n");
  // 20 bytes as stored (LF ends): accepted.
  CHECK(c.talk("123456789\r\n123456789\r\n.\r\n") == Lines{"250 ok 1000000000 qp 4242"});
  REQUIRE(c.sink.queued.size() == 1);
  CHECK(body_of(c.sink.queued[0].data) == "123456789\n123456789\n");
  // 21 bytes: refused after the data, and nothing queued.
  c.talk("MAIL FROM:<a@b>\r\nRCPT TO:<u@example.org>\r\nDATA\r\n");
  CHECK(c.talk("123456789\r\n123456789\r\nX\r\n.\r\n") == Lines{big});
  CHECK(c.sink.queued.size() == 1);
  CHECK(c.sink.aborts == 1);
  CHECK(c.sink.commits == 1);
  // The session goes on.
  CHECK(c.one("MAIL FROM:<a@b>\r\n") == "250 ok");

  // Without databytes any SIZE goes.
  Client u;
  CHECK(u.one("MAIL FROM:<a@b> SIZE=99999999999\r\n") == "250 ok");
  // A large message streams through in pieces.
  u.talk("RCPT TO:<u@example.org>\r\nDATA\r\n");
  std::string line(998, 'x');
  for (int i = 0; i < 2000; i++) u.session.feed(line + "\r\n");
  CHECK(u.talk(".\r\n") == Lines{"250 ok 1000000000 qp 4242"});
  REQUIRE(u.sink.queued.size() == 1);
  CHECK(body_of(u.sink.queued[0].data).size() == 2000 * 999);
}

TEST_CASE("session: qmail-queue's exit code decides the final reply", "[smtpd][session]") {
  struct Case {
    int code;
    char const* reply;
  } const cases[] = {
      {0, "250 ok 1000000000 qp 4242"},
      {11, "554 envelope address too long for qq (#5.1.3)"},
      {31, "554 mail server permanently rejected message (#5.3.0)"},
      {53, "451 qq write error or disk full (#4.3.0)"},
      {71, "451 mail server temporarily rejected message (#4.3.0)"},
      {81, "451 qq internal bug (#4.3.0)"},
      {91, "451 qq internal bug (#4.3.0)"},
      {120, "451 unable to run qq (#4.3.0)"},
      {25, "554 qq permanent problem (#5.3.0)"},
      {99, "451 qq temporary problem (#4.3.0)"},
  };
  for (auto const& k : cases) {
    INFO("code " << k.code);
    Client c;
    c.sink.code = k.code;
    c.talk("MAIL FROM:<a@b>\r\nRCPT TO:<u@example.org>\r\nDATA\r\n");
    CHECK(c.talk("x\r\n.\r\n") == Lines{k.reply});
    CHECK(c.one("NOOP\r\n") == "250 ok");
  }
  Client f;
  f.sink.fail_open = true;
  f.talk("MAIL FROM:<a@b>\r\nRCPT TO:<u@example.org>\r\n");
  CHECK(f.one("DATA\r\n") == "451 qqt failure (#4.3.0)");
  CHECK(f.one("DATA\r\n") == "503 MAIL first (#5.5.1)");  // the transaction is gone
}

TEST_CASE("session: too many hops is a loop", "[smtpd][session]") {
  Client c;
  c.talk("MAIL FROM:<a@b>\r\nRCPT TO:<u@example.org>\r\nDATA\r\n");
  std::string hdr;
  for (int i = 0; i < 99; i++) hdr += "Received: from x\r\n";
  CHECK(c.talk(hdr + "\r\nbody\r\n.\r\n") == Lines{"250 ok 1000000000 qp 4242"});
  c.talk("MAIL FROM:<a@b>\r\nRCPT TO:<u@example.org>\r\nDATA\r\n");
  CHECK(c.talk(hdr + "Delivered-To: u@example.org\r\n\r\n.\r\n") ==
        Lines{"554 too many hops, this message is looping (#5.4.6)"});
  CHECK(c.sink.queued.size() == 1);
}

TEST_CASE("session: recipient limit", "[smtpd][session]") {
  Config cfg = config();
  cfg.max_rcpts = 3;
  Client c(cfg);
  c.talk("MAIL FROM:<a@b>\r\n");
  for (int i = 0; i < 3; i++) CHECK(c.one("RCPT TO:<u" + std::to_string(i) + "@example.org>\r\n") == "250 ok");
  CHECK(c.one("RCPT TO:<u9@example.org>\r\n") == "452 too many recipients (#4.5.3)");
  c.talk("DATA\r\n.\r\n");
  REQUIRE(c.sink.queued.size() == 1);
  CHECK(c.sink.queued[0].rcpts.size() == 3);
}

TEST_CASE("session: bare LF or CR in commands ends the session with 521", "[smtpd][session]") {
  for (char const* in : {"HELO x\n", "NOOP\r\nHELO x\n", "MAIL FROM:<a@b>\nRCPT TO:<u@example.org>\r\n",
                         "HELO x\ry\r\n", "NOOP\r\r\n", "\n"}) {
    INFO(in);
    Client c;
    auto r = c.talk(in);
    REQUIRE(!r.empty());
    std::string want = std::string("521 5.5.2 mx.example.org Error: bare <") +
                       (std::string(in).find("\r\r") != std::string::npos ||
                                std::string(in).find("\ry") != std::string::npos
                            ? "CR"
                            : "LF") +
                       "> received";
    CHECK(r.back() == want);
    CHECK(c.session.finished());
    CHECK(c.session.exit_code() == 100);
    CHECK(c.session.linger());
    CHECK(c.talk("NOOP\r\n").empty());
  }
}

TEST_CASE("session: bare LF or CR in DATA drops the message and the session", "[smtpd][session]") {
  char const* const bodies[] = {
      "\n",                                        // first byte of the data
      "Subject: x\n\r\n.\r\n",                     // in the header
      "a\r\nb\nc\r\n.\r\n",                        // in the body
      "a\r\n.\n",                                  // CR LF . LF
      "a\n.\r\n",                                  // LF . CR LF
      "a\n.\nMAIL FROM:<evil@x>\r\nRCPT TO:<u@example.org>\r\nDATA\r\nsmuggled\r\n.\r\n",
      "a\r.\r\nMAIL FROM:<evil@x>\r\n",            // CR . CR LF
      "a\rb\r\n.\r\n",                             // bare CR mid-line
      "a\r\n.\r.\r\n",
  };
  for (char const* body : bodies) {
    for (size_t step : {0, 1}) {
      INFO(body << " step " << step);
      Client c;
      c.talk("MAIL FROM:<a@b>\r\nRCPT TO:<u@example.org>\r\nDATA\r\n");
      auto r = c.talk(body, step);
      REQUIRE(r.size() == 1);
      CHECK(r[0].compare(0, 38, "521 5.5.2 mx.example.org Error: bare <") == 0);
      CHECK(c.session.finished());
      CHECK(c.session.exit_code() == 100);
      CHECK(c.sink.queued.empty());
      CHECK(c.sink.aborts == 1);
    }
  }
}

TEST_CASE("session: only CR LF . CR LF ends DATA", "[smtpd][session]") {
  Client c;
  c.talk("MAIL FROM:<a@b>\r\nRCPT TO:<u@example.org>\r\nDATA\r\n");
  CHECK(c.talk("a\r\n. \r\n.x\r\n..\r\nb.\r\n").empty());
  CHECK(c.talk(".\r\n") == Lines{"250 ok 1000000000 qp 4242"});
  REQUIRE(c.sink.queued.size() == 1);
  CHECK(body_of(c.sink.queued[0].data) == "a\n \nx\n.\nb.\n");
}

TEST_CASE("session: pipelined input is answered in order", "[smtpd][session]") {
  std::string const session =
      "EHLO client.example\r\n"
      "MAIL FROM:<a@b.example>\r\n"
      "RCPT TO:<u@example.org>\r\n"
      "RCPT TO:<u@evil.example>\r\n"
      "RCPT TO:<v@example.org>\r\n"
      "DATA\r\n"
      "Subject: one\r\n\r\nfirst\r\n.\r\n"
      "MAIL FROM:<c@d.example>\r\n"
      "RCPT TO:<w@example.org>\r\n"
      "DATA\r\n"
      "Subject: two\r\n\r\nsecond\r\n.\r\n"
      "QUIT\r\n"
      "NOOP\r\n";
  Lines const want = {"250-mx.example.org", "250-PIPELINING", "250 8BITMIME", "250 ok", "250 ok",
                      "553 sorry, that domain isn't in my list of allowed rcpthosts (#5.7.1)",
                      "250 ok", "354 go ahead", "250 ok 1000000000 qp 4242", "250 ok", "250 ok",
                      "354 go ahead", "250 ok 1000000000 qp 4242", "221 mx.example.org"};
  for (size_t step : {0, 1, 2, 7, 64}) {
    INFO("step " << step);
    Client c;
    CHECK(c.talk(session, step) == want);
    REQUIRE(c.sink.queued.size() == 2);
    CHECK(c.sink.queued[0].rcpts == Lines{"u@example.org", "v@example.org"});
    CHECK(body_of(c.sink.queued[0].data) == "Subject: one\n\nfirst\n");
    CHECK(c.sink.queued[1].sender == "c@d.example");
    CHECK(body_of(c.sink.queued[1].data) == "Subject: two\n\nsecond\n");
    CHECK(c.session.exit_code() == 0);
  }
}

TEST_CASE("session: a refused DATA followed by more input is a synchronization error",
          "[smtpd][session]") {
  Client c;
  auto r = c.talk("MAIL FROM:<a@b>\r\nRCPT TO:<u@evil.example>\r\nDATA\r\n"
                  "MAIL FROM:<x@y>\r\nRCPT TO:<u@example.org>\r\nDATA\r\nhi\r\n.\r\n");
  CHECK(r.back() == "554 5.5.0 Error: SMTP protocol synchronization");
  CHECK(c.session.finished());
  CHECK(c.session.exit_code() == 100);
  CHECK(c.sink.commits == 0);
  // The same DATA alone is just refused.
  Client d;
  d.talk("MAIL FROM:<a@b>\r\nRCPT TO:<u@evil.example>\r\n");
  CHECK(d.one("DATA\r\n") == "503 RCPT first (#5.5.1)");
  CHECK_FALSE(d.session.finished());
}

TEST_CASE("session: very long command lines are refused whole", "[smtpd][session]") {
  Client c;
  std::string huge = "NOOP " + std::string(100000, 'x') + "\r\n";
  CHECK(c.talk(huge, 4096) == Lines{"500 command line too long (#5.5.2)"});
  CHECK(c.one("NOOP\r\n") == "250 ok");
  CHECK(c.talk("RCPT TO:<" + std::string(3000, 'a') + "@example.org>\r\n") ==
        Lines{"500 command line too long (#5.5.2)"});
  Config small = config();
  small.max_line = 10;
  Client s(small);
  CHECK(s.talk("NOOP 56789\r\nNOOP 567890\r\n") == Lines{"250 ok", "500 command line too long (#5.5.2)"});
}

TEST_CASE("session: timeout and lost connections", "[smtpd][session]") {
  Client c;
  c.session.timeout();
  CHECK(c.take() == Lines{"451 timeout (#4.4.2)"});
  CHECK(c.session.finished());
  CHECK(c.session.exit_code() == 111);

  Client d;
  d.talk("MAIL FROM:<a@b>\r\nRCPT TO:<u@example.org>\r\nDATA\r\nhalf a message\r\n");
  CHECK(d.sink.opened);
  d.session.timeout();
  CHECK(d.take() == Lines{"451 timeout (#4.4.2)"});
  CHECK(d.sink.aborts == 1);
  CHECK(d.sink.queued.empty());

  Client e;
  e.talk("MAIL FROM:<a@b>\r\nRCPT TO:<u@example.org>\r\nDATA\r\nhalf a message\r\n");
  e.session.eof();
  CHECK(e.take().empty());
  CHECK(e.session.finished());
  CHECK(e.session.exit_code() == 111);
  CHECK(e.sink.aborts == 1);
  CHECK(e.sink.queued.empty());

  {  // a session destroyed mid-message drops it too
    FakeSink sink;
    {
      Session s(config(), &sink, fixed_clock);
      s.feed("MAIL FROM:<a@b>\r\nRCPT TO:<u@example.org>\r\nDATA\r\nx");
      CHECK(sink.opened);
    }
    CHECK(sink.aborts == 1);
  }
}

TEST_CASE("session: the Received line names HELO only when it differs", "[smtpd][session]") {
  Config cfg = config();
  cfg.peer.remote_host = "client.example";
  cfg.peer.remote_info = "ident";
  Client c(cfg);
  c.talk("MAIL FROM:<a@b>\r\nRCPT TO:<u@example.org>\r\nDATA\r\n.\r\n");
  c.talk("HELO CLIENT.example\r\nMAIL FROM:<a@b>\r\nRCPT TO:<u@example.org>\r\nDATA\r\n.\r\n");
  c.talk("HELO other.example\r\nMAIL FROM:<a@b>\r\nRCPT TO:<u@example.org>\r\nDATA\r\n.\r\n");
  REQUIRE(c.sink.queued.size() == 3);
  std::string const tail = ")\n  by mx.example.org with SMTP; 9 Sep 2001 01:46:40 -0000\n";
  CHECK(c.sink.queued[0].data == "Received: from client.example (ident@192.0.2.7" + tail);
  CHECK(c.sink.queued[1].data == "Received: from client.example (ident@192.0.2.7" + tail);
  CHECK(c.sink.queued[2].data ==
        "Received: from client.example (HELO other.example) (ident@192.0.2.7" + tail);
}

// Deadlines (issue 11, defect 5): a client that trickles bytes cannot keep a
// session for ever. A virtual clock drives the session.
namespace {

struct Timed {
  time_t now = 1000000000;
  FakeSink sink;
  Session session;
  explicit Timed(Config c) : session(std::move(c), &sink, [this] { return now; }) { session.start(); }
  // One byte per second, as a slowloris client sends; stops when the session
  // finishes or its deadline passes (what the shell would do).
  size_t trickle(std::string_view s) {
    size_t sent = 0;
    for (char c : s) {
      if (session.finished()) break;
      time_t d = session.deadline();
      if (d && now >= d) {
        session.expire();
        break;
      }
      session.feed(std::string_view(&c, 1));
      sent++;
      now++;
    }
    return sent;
  }
};

Config timed(unsigned timeout, unsigned session_limit = 0, uint64_t rate = 500) {
  Config c = config();
  c.timeout = timeout;
  c.session_limit = session_limit;
  c.min_data_rate = rate;
  return c;
}

}  // namespace

TEST_CASE("a command trickled at one byte a second ends at timeoutsmtpd", "[smtpd][deadline]") {
  Timed t(timed(30));
  std::string slow = "HELO " + std::string(100, 'a') + "\r\n";
  size_t sent = t.trickle(slow);
  CHECK(sent == 30);
  REQUIRE(t.session.finished());
  CHECK(t.session.replies().find("451 timeout (#4.4.2)") != std::string::npos);
  CHECK(t.session.exit_code() == 111);
}

TEST_CASE("each complete command starts a new request deadline", "[smtpd][deadline]") {
  Timed t(timed(30));
  // 100 commands of 10 bytes at 1 byte/s: 1,000 s in all, each within 30 s.
  for (int i = 0; i < 100; i++) REQUIRE(t.trickle("NOOP xxx\r\n") == 10);
  CHECK_FALSE(t.session.finished());
}

TEST_CASE("without per-request deadlines the session has no deadline of its own", "[smtpd][deadline]") {
  Config c = timed(30);
  c.per_request_deadline = false;
  Timed t(c);
  CHECK(t.session.deadline() == 0);
  CHECK(t.trickle("HELO " + std::string(100, 'a') + "\r\n") == 107);
}

TEST_CASE("DATA trickled below smtpd_min_data_rate ends; at the rate it goes on", "[smtpd][deadline]") {
  Timed t(timed(30, 0, 500));
  t.session.feed("HELO x\r\nMAIL FROM:<a@b.example>\r\nRCPT TO:<u@example.org>\r\nDATA\r\n");
  REQUIRE(t.session.replies().find("354") != std::string::npos);
  // 1 byte/s earns 2 ms a byte: the 30 s of credit last about 30 bytes.
  size_t sent = t.trickle(std::string(1000, 'x'));
  CHECK(sent >= 30);
  CHECK(sent <= 31);
  CHECK(t.session.finished());
  CHECK(t.sink.queued.empty());

  // A fast client: 600 bytes each second for 200 s keeps its deadline ahead.
  Timed f(timed(30, 0, 500));
  f.session.feed("HELO x\r\nMAIL FROM:<a@b.example>\r\nRCPT TO:<u@example.org>\r\nDATA\r\n");
  std::string line = std::string(598, 'y') + "\r\n";
  for (int s = 0; s < 200; s++) {
    REQUIRE(f.now < f.session.deadline());
    f.session.feed(line);
    f.now++;
  }
  f.session.feed(".\r\n");
  CHECK(f.sink.queued.size() == 1);
  CHECK_FALSE(f.session.finished());
}

TEST_CASE("smtpd_session_time_limit ends a busy session with 421", "[smtpd][deadline]") {
  Timed t(timed(30, 60));
  size_t commands = 0;
  while (!t.session.finished() && commands < 1000) {
    if (t.trickle("NOOP\r\n") == 6) commands++;
  }
  REQUIRE(t.session.finished());
  CHECK(commands == 10);  // 6 s each, the 11th runs into the 60 s limit
  CHECK(t.session.replies().find("421 4.4.2 mx.example.org Error: session time limit exceeded") !=
        std::string::npos);
}
