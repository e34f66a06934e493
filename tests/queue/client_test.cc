// ISC license.
// QueueClient against a stand-in queue program that records what it gets.
#include "queue/client.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <catch2/catch.hpp>

#include "../testutil.h"
#include "sys/exitcodes.h"
#include "sys/fd.h"

namespace {

// Records fd 0 and fd 1 into dir; exits 54 (as qmail-queue does) when the
// envelope is empty, else 0.
std::string fake_queue(qf::test::TempDir const& dir) {
  std::string prog = dir / "qq";
  REQUIRE(qf::test::write_text(prog, "#!/bin/sh\ncat > '" + (dir / "msg") + "'\ncat 0<&1 > '" +
                                         (dir / "env") + "'\n[ -s '" + (dir / "env") +
                                         "' ] || exit 54\nexit 0\n"));
  REQUIRE(chmod(prog.c_str(), 0755) == 0);
  return prog;
}

}  // namespace

TEST_CASE("queue client: message on fd 0, envelope on fd 1", "[client]") {
  qf::test::TempDir dir;
  std::string prog = fake_queue(dir);
  qf::queue::QueueClient qc;
  REQUIRE(qc.open(prog.c_str()));
  qc.put("Subject: x\n\nbody\n");
  CHECK(qc.close("a@b", {"c@d", "e@f"}) == 0);
  std::string msg, env;
  REQUIRE(qf::read_file((dir / "msg").c_str(), &msg));
  REQUIRE(qf::read_file((dir / "env").c_str(), &env));
  CHECK(msg == "Subject: x\n\nbody\n");
  CHECK(env == std::string("Fa@b\0Tc@d\0Te@f\0\0", 16));
}

TEST_CASE("queue client: a source that cannot be read gets no envelope", "[client]") {
  qf::test::TempDir dir;
  std::string prog = fake_queue(dir);
  qf::Fd unreadable(::open(dir.path().c_str(), O_RDONLY | O_DIRECTORY));  // read(2): EISDIR
  REQUIRE(unreadable.ok());
  qf::queue::QueueClient qc;
  REQUIRE(qc.open(prog.c_str()));
  qc.put("Subject: x\n\npart of the body\n");
  qc.put_fd(unreadable.get());
  CHECK(qc.close("a@b", {"c@d"}) == qf::qq::read);
  std::string env;
  REQUIRE(qf::read_file((dir / "env").c_str(), &env));
  CHECK(env.empty());  // qmail-queue would have committed nothing
}
