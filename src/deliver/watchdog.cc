// ISC license.
#include "deliver/watchdog.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cstring>

namespace qf::deliver {

namespace {

// Read by the signal handler: plain values written before they can matter.
volatile sig_atomic_t g_fd = -1;
volatile pid_t g_pgid = 0;
volatile sig_atomic_t g_tmpdir = -1;
volatile sig_atomic_t g_have_tmp = 0;
char g_tmpname[256];

void on_alarm(int) {
  if (g_pgid > 0) ::kill(-g_pgid, SIGKILL);
  if (g_have_tmp) ::unlinkat(g_tmpdir, g_tmpname, 0);
  static char const msg[] = "Timeout on local delivery. (#4.3.0)\n";
  if (g_fd >= 0) {
    ssize_t w = ::write(g_fd, msg, sizeof msg - 1);
    (void)w;
  }
  _exit(111);
}

}  // namespace

void watchdog_arm(int report_fd, unsigned seconds) {
  if (!seconds) {
    ::alarm(0);
    return;
  }
  g_fd = report_fd;
  struct sigaction sa;
  std::memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_alarm;
  sigemptyset(&sa.sa_mask);
  ::sigaction(SIGALRM, &sa, nullptr);
  ::alarm(seconds);
}

void watchdog_program(pid_t pgid) { g_pgid = pgid; }

void watchdog_tmpfile(int dirfd, char const* name) {
  if (!name) {
    g_have_tmp = 0;
    return;
  }
  g_have_tmp = 0;
  size_t n = std::strlen(name);
  if (n >= sizeof g_tmpname) return;
  std::memcpy(g_tmpname, name, n + 1);
  g_tmpdir = dirfd;
  g_have_tmp = 1;
}

}  // namespace qf::deliver
