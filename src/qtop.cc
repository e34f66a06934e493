// ISC license.
// qtop: every queue live in a terminal. See qtop(8).
#include <poll.h>
#include <signal.h>
#include <termios.h>
#include <unistd.h>

#include "conf/paths.h"
#include "multi/report.h"
#include "sys/exitcodes.h"
#include "sys/fs.h"
#include "sys/strerr.h"

char const* PROG = "qtop";

namespace {
constexpr char kUsage[] = "qtop [ -1 ] [ -d seconds ]";
volatile sig_atomic_t stop = 0;
void on_signal(int) { stop = 1; }
}

int main(int argc, char** argv) {
  using namespace qf;
  bool once = false;
  uint64_t delay = 2;
  int opt;
  while ((opt = getopt(argc, argv, "1d:")) != -1) {
    if (opt == '1')
      once = true;
    else if (opt == 'd' && scan_u64(optarg, &delay) && delay >= 1)
      ;
    else
      die_usage(kUsage);
  }
  std::string base = conf::queue_base();
  multi::Snapshot prev = multi::snapshot(base);
  if (!prev.ok) die(ex::temp, "no qscheduler publishes queues for ", base.c_str());
  if (once) {
    sleep(1);  // one second of deliveries for the rates
    multi::Snapshot cur = multi::snapshot(base);
    return write_all(1, multi::table(prev, cur)) ? ex::ok : ex::temp;
  }
  // Live: refresh until q or end of input; the terminal stays in line mode
  // unless it is one, then keys work without Enter.
  struct termios saved;
  bool tty = isatty(0) && tcgetattr(0, &saved) == 0;
  if (tty) {
    struct termios raw = saved;
    raw.c_lflag &= tcflag_t(~(ICANON | ECHO));
    tcsetattr(0, TCSANOW, &raw);
  }
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  int code = ex::ok;
  while (!stop) {
    struct pollfd p = {0, POLLIN, 0};
    int r = poll(&p, 1, int(delay * 1000));
    if (r > 0) {
      char c;
      if (read(0, &c, 1) <= 0 || c == 'q') break;
    }
    multi::Snapshot cur = multi::snapshot(base);
    if (!cur.ok) {
      code = ex::temp;
      break;
    }
    if (!write_all(1, "\033[H\033[2J" + multi::table(prev, cur) + "\n(q to quit)\n")) {
      code = ex::temp;
      break;
    }
    prev = cur;
  }
  if (tty) tcsetattr(0, TCSANOW, &saved);
  return code;
}
