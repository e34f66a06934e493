// ISC license.
// qmail-flush: ask qmail-send to try deferred mail now. See qmail-flush(8).
#include <errno.h>
#include <unistd.h>

#include <cstring>
#include <string>
#include <vector>

#include "queue/layout.h"
#include "queue/trigger.h"
#include "sys/exitcodes.h"
#include "sys/strerr.h"

char const* PROG = "qmail-flush";

namespace {
constexpr char kUsage[] = "qmail-flush [ -R domain | -S sender ] [ queuedir ... ]";
}

int main(int argc, char** argv) {
  using namespace qf;
  std::string req(queue::kFlushAll);
  int opt;
  while ((opt = getopt(argc, argv, "R:S:")) != -1) {
    switch (opt) {
      case 'R': req = queue::flush_destination_request(optarg); break;
      case 'S': req = queue::flush_sender_request(optarg); break;
      default: die_usage(kUsage);
    }
  }
  std::vector<std::string> dirs(argv + optind, argv + argc);
  if (dirs.empty()) dirs = queue::flush_targets();
  int failed = 0;
  for (auto const& d : dirs)
    if (!queue::pull_trigger(queue::Layout(d, 1, false), req)) {
      warn_sys("unable to write to ", (d + "/lock/trigger").c_str());
      failed++;
    }
  return failed == int(dirs.size()) ? ex::temp : ex::ok;
}
