// ISC license.
#include "smtpd/server.h"

#include <catch2/catch.hpp>

#include <stdlib.h>
#include <unistd.h>

#include "../testutil.h"

using namespace qf::smtpd;

// The cache of qmail-smtpd -L's workers: the same configuration as a fresh
// load_config, read again exactly when a control file changed.
TEST_CASE("server: ControlCache reloads a changed, new or removed control file", "[smtpd][controls]") {
  qf::test::TempDir t;
  setenv("CONTROLDIR", t.path().c_str(), 1);
  setenv("TCPREMOTEIP", "192.0.2.1", 1);
  unsetenv("RELAYCLIENT");
  unsetenv("DATABYTES");
  REQUIRE(qf::test::write_text(t / "me", "mx.example.org\n"));
  REQUIRE(qf::test::write_text(t / "rcpthosts", "example.org\n"));

  ControlCache cache;
  Config c;
  REQUIRE(cache.load(&c));
  CHECK(c.greeting == "mx.example.org");
  CHECK(c.rcpthosts.contains("example.org"));
  CHECK_FALSE(c.rcpthosts.contains("example.net"));
  CHECK(c.peer.remote_ip == "192.0.2.1");
  CHECK(c.databytes == 0);

  // Unchanged files: the same configuration; the environment is read each time.
  setenv("TCPREMOTEIP", "192.0.2.2", 1);
  setenv("RELAYCLIENT", "", 1);
  Config d;
  REQUIRE(cache.load(&d));
  CHECK(d.greeting == "mx.example.org");
  CHECK(d.rcpthosts.contains("example.org"));
  CHECK(d.peer.remote_ip == "192.0.2.2");
  CHECK(d.relay_client);
  unsetenv("RELAYCLIENT");

  // Rewritten in place with the same size: the inode and size stay, the
  // times do not.
  REQUIRE(qf::test::write_text(t / "rcpthosts", "example.net\n"));
  REQUIRE(cache.load(&d));
  CHECK(d.rcpthosts.contains("example.net"));
  CHECK_FALSE(d.rcpthosts.contains("example.org"));
  CHECK_FALSE(d.relay_client);

  // A file that appears, and one that goes.
  REQUIRE(qf::test::write_text(t / "databytes", "1000\n"));
  REQUIRE(qf::test::write_text(t / "smtpgreeting", "greetings\n"));
  REQUIRE(cache.load(&d));
  CHECK(d.databytes == 1000);
  CHECK(d.greeting == "greetings");
  REQUIRE(::unlink((t / "smtpgreeting").c_str()) == 0);
  REQUIRE(cache.load(&d));
  CHECK(d.greeting == "mx.example.org");

  // Each load matches what a fresh load_config reads.
  Config fresh;
  REQUIRE(load_config(&fresh));
  CHECK(fresh.greeting == d.greeting);
  CHECK(fresh.databytes == d.databytes);
  CHECK(fresh.rcpthosts.contains("example.net"));

  // A control file that cannot be parsed is an error, cached or not, and a
  // fixed one is read again.
  REQUIRE(qf::test::write_text(t / "timeoutsmtpd", "soon\n"));
  CHECK_FALSE(cache.load(&d));
  CHECK_FALSE(cache.load(&d));
  REQUIRE(qf::test::write_text(t / "timeoutsmtpd", "30\n"));
  REQUIRE(cache.load(&d));
  CHECK(d.timeout == 30);
  unsetenv("CONTROLDIR");
  unsetenv("TCPREMOTEIP");
}
