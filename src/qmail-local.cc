// ISC license.
// qmail-local: deliver or disposition a mail message. See qmail-local(8).
#include <errno.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <new>
#include <string>

#include "deliver/local.h"
#include "deliver/watchdog.h"
#include "sys/exitcodes.h"
#include "sys/fs.h"
#include "sys/strerr.h"

char const* PROG = "qmail-local";

namespace {

constexpr char kUsage[] =
    "qmail-local [ -nN ] user homedir local dash ext domain sender defaultdelivery";

}  // namespace

int main(int argc, char** argv) {
  using namespace qf;
  deliver::LocalDelivery d;
  int opt;
  // "+": options end at the first argument; an extension may start with '-'.
  while ((opt = getopt(argc, argv, "+nN")) != -1) {
    switch (opt) {
      case 'n': d.dry_run = true; break;
      case 'N': d.dry_run = false; break;
      default: die_usage(kUsage);
    }
  }
  if (argc - optind != 8) die_usage(kUsage);
  char** a = argv + optind;
  if (a[1][0] != '/') die_usage(kUsage);
  d.user = a[0];
  d.home = a[1];
  d.local = a[2];
  d.dash = a[3];
  d.ext = a[4];
  d.host = a[5];
  d.sender = a[6];
  d.default_delivery = a[7];

  ::umask(077);
  ::signal(SIGPIPE, SIG_IGN);
  try {
    std::string report;
    if (!deliver::read_timeoutlocal(&d.timeout)) {
      write_all(1, "Unable to read control/timeoutlocal: " + std::string(strerror(errno)) +
                       ". (#4.3.0)\n");
      return ex::temp;
    }
    deliver::watchdog_arm(1, d.timeout + 300);
    int code = deliver::deliver_local(d, 0, &report);
    write_all(1, report);
    return code;
  } catch (std::bad_alloc const&) {
    write_all(1, "Out of memory. (#4.3.0)\n");
    return ex::temp;
  }
}
