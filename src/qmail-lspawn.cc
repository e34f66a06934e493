// ISC license.
// qmail-lspawn: schedule local deliveries. See qmail-lspawn(8).
#include <fcntl.h>
#include <unistd.h>

#include <new>
#include <string>

#include "deliver/lspawn.h"
#include "sys/exitcodes.h"
#include "sys/fs.h"
#include "sys/strerr.h"

char const* PROG = "qmail-lspawn";

int main(int argc, char** argv) {
  using namespace qf;
  // Further arguments are ignored: qmail-start may add the queue for ps(1).
  if (argc < 2) die_usage("qmail-lspawn defaultdelivery");
  // Diagnostics go to fd 2: never let one of our own files land there.
  if (::fcntl(2, F_GETFD) < 0) {
    int fd = ::open("/dev/null", O_WRONLY);
    if (fd >= 0 && fd != 2) ::close(fd);
  }
  try {
    deliver::LspawnConfig c;
    std::string err, warning;
    if (!deliver::lspawn_config(argv[1], &c, &err, &warning)) die(ex::temp, err.c_str());
    c.warn = [](std::string const& s) { warn(s.c_str()); };
    if (!warning.empty()) warn(warning.c_str());
    if (!c.privileged) {
      std::string uid = fmt_u64(::geteuid());
      info(("running as uid " + uid + " (embedded mode): delivering only to uid " + uid).c_str());
    }
    return deliver::run_lspawn(c, 0, 1);
  } catch (std::bad_alloc const&) {
    die(ex::temp, "out of memory");
  }
}
