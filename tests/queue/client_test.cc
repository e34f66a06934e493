// ISC license.
// QueueClient against a stand-in queue program that records what it gets.
#include "queue/client.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <thread>

#include <catch2/catch.hpp>

#include "../testutil.h"
#include "sys/exitcodes.h"
#include "sys/fd.h"
#include "queue/queued.h"

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

// A stand-in qmail-queued on dir/inject.sock: greets each connection, reads
// messages (chunks, the end, the envelope up to its empty record) and answers
// 0 to each. With close_after_answer it closes a connection after its first
// answer. Counts connections and messages; serves until stop().
class FakeQueued {
 public:
  FakeQueued(std::string const& dir, bool close_after_answer) : close_(close_after_answer) {
    ls_.reset(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    REQUIRE(ls_.ok());
    struct sockaddr_un sa;
    std::memset(&sa, 0, sizeof sa);
    sa.sun_family = AF_UNIX;
    std::string path = qf::queue::inject_socket(dir);
    REQUIRE(path.size() < sizeof sa.sun_path);
    std::memcpy(sa.sun_path, path.c_str(), path.size());
    REQUIRE(::bind(ls_.get(), reinterpret_cast<struct sockaddr*>(&sa), sizeof sa) == 0);
    REQUIRE(::listen(ls_.get(), 8) == 0);
    th_ = std::thread([this] { serve(); });
  }
  ~FakeQueued() { stop(); }
  void stop() {
    if (!th_.joinable()) return;
    ::shutdown(ls_.get(), SHUT_RDWR);
    th_.join();
  }
  int connections() const { return conns_.load(); }
  int messages() const { return msgs_.load(); }

 private:
  bool read_n(int fd, char* p, size_t n) {
    while (n) {
      ssize_t r = ::read(fd, p, n);
      if (r <= 0) return false;
      p += r;
      n -= size_t(r);
    }
    return true;
  }
  void serve() {
    for (;;) {
      int fd = ::accept(ls_.get(), nullptr, nullptr);
      if (fd < 0) return;
      conns_++;
      qf::Fd c(fd);
      if (::write(fd, "+", 1) != 1) continue;
      for (;;) {
        unsigned char h[4];
        if (!read_n(fd, reinterpret_cast<char*>(h), 4)) break;
        size_t n = size_t(h[0]) << 24 | size_t(h[1]) << 16 | size_t(h[2]) << 8 | h[3];
        if (n) {
          std::string data(n, '\0');
          if (!read_n(fd, data.data(), n)) break;
          continue;
        }
        std::string env;  // records up to the empty one
        char ch, prev = '\0';
        bool whole = false;
        while (read_n(fd, &ch, 1)) {
          env.push_back(ch);
          if (ch == '\0' && (prev == '\0' || env.size() == 1)) {
            whole = true;
            break;
          }
          prev = ch;
        }
        if (!whole) break;
        msgs_++;
        if (::write(fd, "0\n", 2) != 2 || close_) break;
      }
    }
  }

  bool close_;
  qf::Fd ls_;
  std::thread th_;
  std::atomic<int> conns_{0}, msgs_{0};
};

int queue_one(char const* subject) {
  qf::queue::QueueClient qc;
  REQUIRE(qc.open(nullptr, true));
  qc.put(std::string("Subject: ") + subject + "\n\nbody\n");
  return qc.close("a@b", {"c@d"});
}

// Queues two messages to a FakeQueued on dir, keeping connections or not;
// returns how many connections it saw, after checking both got 0 and arrived.
int connections_for_two(std::string const& dir, bool keep, bool server_closes) {
  FakeQueued q(dir, server_closes);
  qf::queue::QueueClient::keep_connections(keep);
  CHECK(queue_one("one") == 0);
  usleep(20000);  // a close by the server has arrived
  CHECK(queue_one("two") == 0);
  qf::queue::QueueClient::keep_connections(false);
  q.stop();
  CHECK(q.messages() == 2);
  return q.connections();
}

}  // namespace

TEST_CASE("queue client: a kept connection carries the next message", "[client]") {
  qf::test::TempDir dir;
  REQUIRE(::setenv("QUEUEDIR", dir.path().c_str(), 1) == 0);
  SECTION("kept: one connection for two messages") {
    CHECK(connections_for_two(dir.path(), true, false) == 1);
  }
  SECTION("a kept connection the server closed is not used") {
    CHECK(connections_for_two(dir.path(), true, true) == 2);
  }
  SECTION("not kept: a connection per message") {
    CHECK(connections_for_two(dir.path(), false, false) == 2);
  }
  ::unsetenv("QUEUEDIR");
}

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
