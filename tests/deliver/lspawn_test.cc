// ISC license.
#include "deliver/lspawn.h"
#include "queue/message.h"

#include <catch2/catch.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "queue/fix.h"
#include "sys/fs.h"
#include "../testutil.h"

using namespace qf::deliver;
using qf::queue::Dir;
using qf::queue::Layout;
using qf::test::TempDir;

namespace {

int exited(int code) { return (code & 0xff) << 8; }   // a wait status
int killed(int sig) { return sig & 0x7f; }

// A file in mess/ of a fresh queue whose name is its inode, as qmail-queue makes it.
uint64_t put_message(Layout const& q, std::string const& body) {
  std::string tmp = q.dir(Dir::pid) + "/m";
  REQUIRE(qf::test::write_text(tmp, body));
  struct stat st;
  REQUIRE(stat(tmp.c_str(), &st) == 0);
  uint64_t id = st.st_ino;
  REQUIRE(rename(tmp.c_str(), q.path(Dir::mess, id).c_str()) == 0);
  return id;
}

Layout make_queue(TempDir const& t) {
  Layout q(t / "queue", 7, false);
  qf::queue::FixOptions o;
  std::string err;
  REQUIRE(qf::queue::resolve_owners(&o.owners, &err));
  REQUIRE_FALSE(qf::queue::fix_queue(q, o, qf::queue::FixReport{}).failed);
  return q;
}

}  // namespace

TEST_CASE("lspawn: exit codes become K, D and Z", "[lspawn]") {
  auto r = result_of(exited(0), "did 1+0+0\n", false);
  CHECK(r.status == 'K');
  CHECK(r.text == "did 1+0+0\n");
  CHECK(result_of(exited(100), "Sorry\n", false).status == 'D');
  CHECK(result_of(exited(111), "later\n", false).status == 'Z');
  CHECK(result_of(exited(1), "", false).status == 'Z');
  CHECK(result_of(exited(75), "", false).status == 'Z');
  r = result_of(killed(9), "partial", false);
  CHECK(r.status == 'Z');
  CHECK(r.text == "qmail-local crashed.\n");
  r = result_of(exited(100), std::string(5000, 'x'), true);
  CHECK(r.status == 'D');
  CHECK(r.text.size() <= kMaxLocalReport);
  CHECK(r.text.find("Error report too long, sorry.") != std::string::npos);
}

TEST_CASE("open_message: the message file is checked before anything runs", "[lspawn][queue]") {
  TempDir t;
  Layout q = make_queue(t);
  uid_t me = geteuid();
  uint64_t id = put_message(q, "hello\n");
  qf::Fd fd;
  std::string why;
  auto refused = [&](uint64_t n, uid_t owner) {
    qf::Fd f;
    REQUIRE_FALSE(qf::queue::open_message(q, n, owner, &f, &why));
    CHECK_FALSE(f.ok());
    return why;
  };
  REQUIRE(qf::queue::open_message(q, id, me, &fd, &why));
  CHECK(fd.ok());
  CHECK((fcntl(fd.get(), F_GETFL) & O_NONBLOCK) == 0);

  CHECK(refused(id, me + 1) == "Sorry, message has wrong owner. (#4.3.5)");
  CHECK(refused(id + 7, me).rfind("Unable to open message:", 0) == 0);

  // A message whose name is not its inode (a restored or planted file).
  uint64_t other = put_message(q, "x\n");
  uint64_t wrong = other + 7 * 1000;
  REQUIRE(rename(q.path(Dir::mess, other).c_str(), q.path(Dir::mess, wrong).c_str()) == 0);
  CHECK(refused(wrong, me) == "Sorry, message has wrong inode number. (#4.3.5)");

  // A second link, a symbolic link, a fifo.
  REQUIRE(link(q.path(Dir::mess, id).c_str(), (t / "extra").c_str()) == 0);
  CHECK(refused(id, me) == "Sorry, message has wrong link count. (#4.3.5)");
  REQUIRE(unlink((t / "extra").c_str()) == 0);
  uint64_t sid = put_message(q, "s\n");
  REQUIRE(unlink(q.path(Dir::mess, sid).c_str()) == 0);
  REQUIRE(symlink(q.path(Dir::mess, id).c_str(), q.path(Dir::mess, sid).c_str()) == 0);
  CHECK(refused(sid, me) == "Sorry, message is a symbolic link. (#4.3.5)");
  REQUIRE(unlink(q.path(Dir::mess, sid).c_str()) == 0);
  REQUIRE(mkfifo(q.path(Dir::mess, sid).c_str(), 0644) == 0);
  CHECK(refused(sid, me) == "Sorry, message has wrong type. (#4.3.5)");
}

TEST_CASE("lspawn: without privileges only our own uid is delivered to", "[lspawn]") {
  UserMapping m;
  m.user = "someone";
  m.uid = geteuid() + 1;
  std::string err;
  CHECK_FALSE(become_user(m, false, &err));
  CHECK(err == "cannot switch to user someone: qfleet runs unprivileged (#4.3.0)");
  m.uid = geteuid();
  CHECK(become_user(m, false, &err));
  // Privileged, uid 0 is refused before any system call.
  m.uid = 0;
  CHECK_FALSE(become_user(m, true, &err));
  CHECK(err == "Not allowed to perform deliveries as root. (#4.3.0)");
}

TEST_CASE("lspawn: QFLEET_EMBEDDED", "[lspawn]") {
  char const* old = getenv("QFLEET_EMBEDDED");
  std::string saved = old ? old : "";
  setenv("QFLEET_EMBEDDED", "1", 1);
  CHECK(embedded_requested());
  setenv("QFLEET_EMBEDDED", "0", 1);
  CHECK_FALSE(embedded_requested());
  setenv("QFLEET_EMBEDDED", "", 1);
  CHECK_FALSE(embedded_requested());
  if (old)
    setenv("QFLEET_EMBEDDED", saved.c_str(), 1);
  else
    unsetenv("QFLEET_EMBEDDED");
}
