// ISC license.
// The SMTP client against a scripted peer on a socketpair: per-recipient
// outcomes in one transaction, pipelined and not, RSET on reuse.
#include "remote/smtp.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <string>
#include <thread>

#include "../testutil.h"

using namespace qf::remote;

namespace {

// Answers RCPT TO:<h...> 550, <s...> 451, others 250; DATA 354 only if a
// recipient was accepted. Keeps every command line it got in *log.
void peer(int fd, bool pipelining, std::string* log) {
  auto say = [&](std::string const& s) { (void)!::send(fd, s.data(), s.size(), MSG_NOSIGNAL); };
  say("220 peer ESMTP\r\n");
  std::string buf;
  bool data = false;
  int accepted = 0;
  for (;;) {
    size_t nl;
    while ((nl = buf.find("\r\n")) == std::string::npos) {
      char tmp[4096];
      ssize_t r = ::read(fd, tmp, sizeof tmp);
      if (r <= 0) return;
      buf.append(tmp, size_t(r));
    }
    std::string line = buf.substr(0, nl);
    buf.erase(0, nl + 2);
    if (data) {
      if (line == ".") {
        data = false;
        *log += "<body>\n";
        say("250 queued\r\n");
      }
      continue;
    }
    *log += line + "\n";
    if (line.rfind("EHLO", 0) == 0)
      say(pipelining ? "250-peer\r\n250-PIPELINING\r\n250-SIZE 1000000\r\n250 8BITMIME\r\n" : "250 peer\r\n");
    else if (line.rfind("MAIL", 0) == 0) {
      accepted = 0;
      say("250 ok\r\n");
    } else if (line.rfind("RCPT TO:<h", 0) == 0)
      say("550 no such user\r\n");
    else if (line.rfind("RCPT TO:<s", 0) == 0)
      say("451 try later\r\n");
    else if (line.rfind("RCPT", 0) == 0) {
      accepted++;
      say("250 ok\r\n");
    } else if (line == "DATA") {
      if (accepted) {
        data = true;
        say("354 go\r\n");
      } else {
        say("554 no valid recipients\r\n");
      }
    } else if (line == "RSET")
      say("250 reset\r\n");
    else if (line == "QUIT") {
      say("221 bye\r\n");
      return;
    } else
      say("500 what?\r\n");
  }
}

// A connected pair: ours non-blocking (as connect_tcp makes it), the peer's blocking.
void pair(int sv[2]) {
  REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
  REQUIRE(::fcntl(sv[0], F_SETFL, O_NONBLOCK) == 0);
}

struct Fixture {
  qf::test::TempDir dir;
  MessageSource msg;
  int fd = -1;
  Fixture() {
    std::string path = dir / "m";
    REQUIRE(qf::test::write_text(path, "Subject: t\n\n.hi\n\xe9t\xe9\n"));
    fd = ::open(path.c_str(), O_RDONLY);
    msg.fd = fd;
    REQUIRE(msg.scan());
  }
  ~Fixture() { ::close(fd); }
};

}  // namespace

TEST_CASE("smtp: mixed per-recipient outcomes in one transaction", "[remote][smtp]") {
  for (bool pipelining : {true, false}) {
    Fixture f;
    int sv[2];
    pair(sv);
    std::string log;
    std::thread t(peer, sv[1], pipelining, &log);
    {
      Session s(qf::Fd(sv[0]), "192.0.2.25", Timeouts{5, 5});
      Outcome o;
      REQUIRE(s.start("me.example", &o));
      CHECK(s.extensions().pipelining == pipelining);
      s.transact("from@x", {"ok1@d", "hard@d", "soft@d", "ok2@d"}, f.msg, &o);
      CHECK(o.status == 'K');
      CHECK(o.text == "192.0.2.25 accepted message.\nRemote host said: 250 queued\n");
      REQUIRE(o.rcpts.size() == 4);
      CHECK(o.rcpts[0].kind == 'r');
      CHECK(o.rcpts[1].kind == 'h');
      CHECK(o.rcpts[1].text == "192.0.2.25 does not like recipient.\nRemote host said: 550 no such user\n");
      CHECK(o.rcpts[2].kind == 's');
      CHECK(o.rcpts[3].kind == 'r');
      CHECK(s.usable());
      // The connection carries a second transaction after RSET; nobody accepted: D, no body.
      s.transact("", {"hard2@d", "soft2@d"}, f.msg, &o);
      CHECK(o.status == 'D');
      CHECK(o.rcpts[0].kind == 'h');
      CHECK(o.rcpts[1].kind == 's');
      CHECK(s.usable());
      CHECK(s.transactions() == 2);
      // An address with CR LF never reaches the wire.
      s.transact("", {"evil@d>\r\nRCPT TO:<x@y", "ok3@d"}, f.msg, &o);
      CHECK(o.rcpts[0].kind == 'h');
      CHECK(o.rcpts[1].kind == 'r');
      CHECK(o.status == 'K');
      s.quit();
    }
    t.join();
    ::close(sv[1]);
    std::string mail1 = pipelining ? "MAIL FROM:<from@x> SIZE=" : "MAIL FROM:<from@x>\n";
    CHECK(log.find(mail1) != std::string::npos);
    if (pipelining) CHECK(log.find("BODY=8BITMIME") != std::string::npos);
    CHECK(log.find("RSET\nMAIL FROM:<>") != std::string::npos);
    CHECK(log.find("RCPT TO:<x@y") == std::string::npos);
    CHECK(log.find("evil") == std::string::npos);
    size_t bodies = 0;
    for (size_t p = 0; (p = log.find("<body>", p)) != std::string::npos; p++) bodies++;
    CHECK(bodies == 2);
    if (!pipelining) CHECK(log.find("RCPT TO:<soft2@d>\nRSET") != std::string::npos);  // no DATA
  }
}

TEST_CASE("smtp: a peer that never answers times out", "[remote][smtp]") {
  int sv[2];
  pair(sv);
  Session s(qf::Fd(sv[0]), "192.0.2.26", Timeouts{1, 1});
  Outcome o;
  CHECK_FALSE(s.start("me", &o));
  CHECK(o.status == 'Z');
  CHECK(o.text.find("timed out") != std::string::npos);
  ::close(sv[1]);
}

TEST_CASE("smtp: 5xx greeting is permanent, a hostile greeting temporary", "[remote][smtp]") {
  for (auto [greeting, status] : {std::pair<std::string, char>{"554 go away\r\n", 'D'},
                                  {"421 busy\r\n", 'Z'},
                                  {std::string(100000, 'x'), 'Z'},
                                  {"hello there\r\n", 'Z'}}) {
    int sv[2];
    pair(sv);
    std::thread t([&, fd = sv[1]] { (void)!::send(fd, greeting.data(), greeting.size(), MSG_NOSIGNAL); });
    Session s(qf::Fd(sv[0]), "192.0.2.27", Timeouts{2, 2});
    Outcome o;
    CHECK_FALSE(s.start("me", &o));
    CHECK(o.status == status);
    t.join();
    ::close(sv[1]);
  }
}
