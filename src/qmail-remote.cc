// ISC license.
// qmail-remote: send one mail message by SMTP. See qmail-remote(8).
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <new>
#include <string>
#include <vector>

#include "conf/paths.h"
#include "queue/layout.h"
#include "remote/deliver.h"
#include "sys/exitcodes.h"
#include "sys/fd.h"
#include "sys/fs.h"
#include "sys/skalibs.h"

char const* PROG = "qmail-remote";

namespace {

using namespace qf;

// Writes the result records and exits 0 (or 111 if they cannot be written).
[[noreturn]] void finish(std::string const& out) {
  _exit(write_all(1, out) ? ex::ok : ex::temp);
}

[[noreturn]] void message_only(char status, std::string const& text, int code = ex::ok) {
  std::string out(1, status);
  out += text;
  out.push_back('\0');
  if (!write_all(1, out)) _exit(ex::temp);
  _exit(code);
}

// fd 0 as a file that can be read twice: itself when regular, else a copy.
int seekable_input() {
  struct stat st;
  if (::fstat(0, &st) == 0 && S_ISREG(st.st_mode)) return 0;
  char const* tmp = getenv("TMPDIR");
  std::string dir = tmp && *tmp ? tmp : "/tmp";
  int fd = ::open(dir.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
  if (fd < 0) return -1;
  char buf[1 << 16];
  for (;;) {
    ssize_t r = ::read(0, buf, sizeof buf);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return -1;
    if (r == 0) break;
    if (!write_all(fd, buf, size_t(r))) return -1;
  }
  return fd;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    if (argc < 4) message_only('D', "I (qmail-remote) was invoked improperly. (#5.3.5)\n", ex::perm);
    std::string host = argv[1], sender = argv[2];
    std::vector<std::string> rcpts(argv + 3, argv + argc);
    remote::Config cfg;
    if (!cfg.load()) message_only('Z', "Unable to read control files. (#4.3.0)\n");
    remote::MessageSource msg;
    msg.fd = seekable_input();
    if (msg.fd < 0 || !msg.scan()) message_only('Z', "Unable to read message. (#4.3.0)\n");
    char const* qd = getenv("QUEUEDIR");
    queue::Layout q = queue::Layout::from_env(qd && *qd ? qd : conf::default_queue());
    remote::Deliverer d(q.lock("tcpto"));
    remote::Outcome o;
    for (char& c : host)
      if (c >= 'A' && c <= 'Z') c = char(c - 'A' + 'a');
    d.deliver(cfg, host, msg, sender, rcpts, &o);
    d.drop();
    finish(remote::remote_output(o));
  } catch (std::bad_alloc const&) {
    return ex::temp;
  }
}
