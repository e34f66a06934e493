// ISC license.
#include "deliver/local.h"

#include <catch2/catch.hpp>

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sys/fd.h"
#include "sys/fs.h"
#include "../testutil.h"

using namespace qf::deliver;
using qf::test::TempDir;

namespace {

struct Home {
  TempDir t;
  std::string home = t / "home";
  Home() {
    REQUIRE(mkdir(home.c_str(), 0755) == 0);
    for (char const* d : {"/Maildir", "/Maildir/tmp", "/Maildir/new", "/Maildir/cur"})
      REQUIRE(mkdir((home + d).c_str(), 0700) == 0);
  }
  LocalDelivery delivery(std::string local, std::string dash, std::string ext) const {
    LocalDelivery d;
    d.user = "joe";
    d.home = home;
    d.local = std::move(local);
    d.dash = std::move(dash);
    d.ext = std::move(ext);
    d.host = "example.com";
    d.sender = "s@example.org";
    d.default_delivery = "./Maildir/\n";
    return d;
  }
  int deliver(LocalDelivery const& d, std::string const& msg, std::string* report) const {
    REQUIRE(qf::test::write_text(t / "msg", msg));
    qf::Fd fd(open((t / "msg").c_str(), O_RDONLY));
    return deliver_local(d, fd.get(), report);
  }
  size_t delivered() const {
    size_t n = 0;
    DIR* d = opendir((home + "/Maildir/new").c_str());
    while (struct dirent* e = readdir(d)) n += e->d_name[0] != '.';
    closedir(d);
    return n;
  }
};

}  // namespace

TEST_CASE("local: default delivery in-process", "[local]") {
  Home h;
  std::string report;
  CHECK(h.deliver(h.delivery("joe", "", ""), "Subject: x\n\nbody\n", &report) == 0);
  CHECK(report == "did 1+0+0\n");
  CHECK(h.delivered() == 1);
}

TEST_CASE("local: the loop check looks at the header only", "[local]") {
  Home h;
  std::string report;
  CHECK(h.deliver(h.delivery("Joe", "", ""), "A: b\nDelivered-To: joe@EXAMPLE.com\n\nx\n", &report) ==
        100);
  CHECK(report == "This message is looping: it already has my Delivered-To line. (#5.4.6)\n");
  report.clear();
  CHECK(h.deliver(h.delivery("joe", "", ""), "A: b\r\n\r\nDelivered-To: joe@example.com\n", &report) == 0);
  report.clear();
  std::string long_header = "X: " + std::string(1 << 20, 'y') + "\n\n";
  CHECK(h.deliver(h.delivery("joe", "", ""), long_header, &report) == 0);
  CHECK(h.delivered() == 2);
}

TEST_CASE("local: -n reports and changes nothing", "[local]") {
  Home h;
  REQUIRE(qf::test::write_text(h.home + "/.qmail-x-default", "./Maildir/\n|cmd\n&a@b\n"));
  LocalDelivery d = h.delivery("joe-x-y", "-", "x-y");
  d.dry_run = true;
  std::string report;
  CHECK(h.deliver(d, "Delivered-To: joe-x-y@example.com\n\nx\n", &report) == 0);
  CHECK(report == "maildir ./Maildir/\nprogram cmd\nforward a@b\ndid 1+1+1\n");
  CHECK(h.delivered() == 0);
}

TEST_CASE("local: a slash in the extension names no file", "[local]") {
  Home h;
  REQUIRE(mkdir((h.home + "/.qmail-a").c_str(), 0755) == 0);
  REQUIRE(qf::test::write_text(h.home + "/.qmail-a/b", "./Maildir/\n"));
  std::string report;
  CHECK(h.deliver(h.delivery("joe-a/b", "-", "a/b"), "x\n", &report) == 100);
  CHECK(report == "Sorry, no mailbox here by that name. (#5.1.1)\n");
  CHECK(h.delivered() == 0);
}
