// ISC license.
#include "deliver/mbox.h"

#include <catch2/catch.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <random>

#include "deliver/lines.h"
#include "sys/fd.h"
#include "sys/fs.h"
#include "../testutil.h"

using namespace qf::deliver;
using qf::test::TempDir;

namespace {

// The rule stated line by line, to check the streaming quoter against.
std::string reference_body(std::string_view m) {
  std::string out;
  bool complete = true;
  while (!m.empty()) {
    size_t nl = m.find('\n');
    std::string_view line = nl == std::string_view::npos ? m : m.substr(0, nl + 1);
    m.remove_prefix(line.size());
    if (needs_from_quote(line)) out += '>';
    out += line;
    complete = line.back() == '\n';
  }
  if (!complete) out += '\n';
  return out + "\n";
}

int message_fd(TempDir const& t, std::string const& body) {
  REQUIRE(qf::test::write_text(t / "msg", body));
  int fd = open((t / "msg").c_str(), O_RDONLY | O_CLOEXEC);
  REQUIRE(fd >= 0);
  return fd;
}

}  // namespace

TEST_CASE("mbox: From_ quoting, final newline and blank line", "[mbox]") {
  CHECK(mbox_body("") == "\n");
  CHECK(mbox_body("a") == "a\n\n");
  CHECK(mbox_body("a\n") == "a\n\n");
  CHECK(mbox_body("From me\n") == ">From me\n\n");
  CHECK(mbox_body("x\nFrom me\n>From you\nFromage\n From x\n") ==
        "x\n>From me\n>>From you\nFromage\n From x\n\n");
  CHECK(mbox_body("From ") == ">From \n\n");
  CHECK(mbox_body(">>>Fro") == ">>>Fro\n\n");
  CHECK(mbox_body("\n\nFrom x") == "\n\n>From x\n\n");
}

TEST_CASE("mbox: the streaming quoter agrees with the rule in any chunking", "[mbox]") {
  std::mt19937 rng(42);
  char const alphabet[] = {'F', 'r', 'o', 'm', ' ', '>', '\n', 'x'};
  for (int round = 0; round < 2000; round++) {
    std::string m;
    size_t len = rng() % 40;
    for (size_t i = 0; i < len; i++) m += alphabet[rng() % sizeof alphabet];
    if (rng() % 3 == 0) m = "From " + m;
    std::string want = reference_body(m);
    size_t chunk = 1 + rng() % 7;
    MboxQuoter q;
    std::string got;
    for (size_t i = 0; i < m.size(); i += chunk)
      q.feed(std::string_view(m).substr(i, chunk), &got);
    q.end(&got);
    INFO("message: " << m);
    REQUIRE(got == want);
  }
}

TEST_CASE("mbox: a delivery appends and creates the file mode 0600", "[mbox]") {
  TempDir t;
  qf::Fd home(open(t.path().c_str(), O_RDONLY | O_DIRECTORY));
  qf::Fd msg(message_fd(t, "Subject: x\n\nFrom here\nlast"));
  Outcome o = deliver_mbox(home.get(), "./Mailbox", "PREFIX\n", msg.get());
  REQUIRE(o.ok());
  o = deliver_mbox(home.get(), t / "Mailbox", "PREFIX\n", msg.get());
  REQUIRE(o.ok());
  std::string data;
  REQUIRE(qf::read_file((t / "Mailbox").c_str(), &data));
  std::string one = "PREFIX\nSubject: x\n\n>From here\nlast\n\n";
  CHECK(data == one + one);
  struct stat st;
  REQUIRE(stat((t / "Mailbox").c_str(), &st) == 0);
  CHECK((st.st_mode & 07777) == 0600);
}

TEST_CASE("mbox: symbolic links, hard links and special files are refused", "[mbox]") {
  TempDir t;
  qf::Fd home(open(t.path().c_str(), O_RDONLY | O_DIRECTORY));
  qf::Fd msg(message_fd(t, "hello\n"));
  REQUIRE(qf::test::write_text(t / "target", "keep"));
  REQUIRE(symlink((t / "target").c_str(), (t / "sym").c_str()) == 0);
  REQUIRE(symlink((t / "nowhere").c_str(), (t / "dangling").c_str()) == 0);
  REQUIRE(link((t / "target").c_str(), (t / "hard").c_str()) == 0);
  REQUIRE(mkfifo((t / "fifo").c_str(), 0600) == 0);
  for (char const* name : {"sym", "dangling", "hard", "fifo"}) {
    Outcome o = deliver_mbox(home.get(), name, "", msg.get());
    INFO(name << ": " << o.text);
    CHECK(o.code == 111);
    CHECK(o.text.find("(#4.") != std::string::npos);
  }
  std::string data;
  REQUIRE(qf::read_file((t / "target").c_str(), &data));
  CHECK(data == "keep");
  struct stat st;
  CHECK(lstat((t / "nowhere").c_str(), &st) < 0);  // the dangling link made nothing
}

TEST_CASE("mbox: a lock held elsewhere makes the delivery wait, then fail", "[mbox][slow]") {
  // Locks by another process: flock from a child holding the file.
  TempDir t;
  qf::Fd home(open(t.path().c_str(), O_RDONLY | O_DIRECTORY));
  qf::Fd msg(message_fd(t, "hello\n"));
  REQUIRE(qf::test::write_text(t / "Mailbox", ""));
  int p[2];
  REQUIRE(pipe(p) == 0);
  pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    int fd = open((t / "Mailbox").c_str(), O_RDWR);
    struct flock fl = {};
    fl.l_type = F_WRLCK;
    fl.l_whence = SEEK_SET;
    if (fd < 0 || fcntl(fd, F_SETLK, &fl) < 0) _exit(1);
    char c = 'x';
    if (write(p[1], &c, 1) != 1) _exit(1);
    sleep(2);
    _exit(0);
  }
  close(p[1]);
  char c;
  REQUIRE(read(p[0], &c, 1) == 1);
  close(p[0]);
  time_t start = time(nullptr);
  Outcome o = deliver_mbox(home.get(), "Mailbox", "", msg.get());
  int st;
  waitpid(pid, &st, 0);
  // The lock went away after about 2 s, well within the 30 s allowed.
  CHECK(o.ok());
  CHECK(time(nullptr) - start >= 1);
}
