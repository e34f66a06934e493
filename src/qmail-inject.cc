// ISC license.
// qmail-inject: preprocess and send a mail message. See qmail-inject(8).
#include <signal.h>
#include <unistd.h>

#include <new>

#include "inject/injector.h"
#include "sys/exitcodes.h"
#include "sys/strerr.h"

char const* PROG = "qmail-inject";

namespace {
char const* const kUsage = "qmail-inject [ -nNaAhH ] [ -f sender ] [ recip ... ]";
}

int main(int argc, char** argv) {
  using namespace qf::inject;
  ::signal(SIGPIPE, SIG_IGN);  // a dead qmail-queue or reader is an error value, not a signal
  qf::inject::Result r;
  try {
    Options opt;
    opterr = 0;
    for (int c; (c = ::getopt(argc, argv, "+aAhHnNf:")) != -1;) {
      switch (c) {
        case 'a': opt.mode = Recipients::args; break;
        case 'A': opt.mode = Recipients::args_else_header; break;
        case 'h': opt.mode = Recipients::header; break;
        case 'H': opt.mode = Recipients::both; break;
        case 'n': opt.queue = false; break;
        case 'N': opt.queue = true; break;
        case 'f': opt.sender = optarg; break;
        default: qf::die_usage(kUsage);
      }
    }
    for (int i = optind; i < argc; i++) opt.recipients.emplace_back(argv[i]);
    Identity id = identity_from_env();
    Config cfg;
    r = load_config(id, &cfg);
    if (r.ok()) r = inject(opt, id, cfg, 0, 1);
  } catch (std::bad_alloc const&) {
    r = {qf::ex::temp, "out of memory"};
  }
  if (!r.ok()) qf::die(r.code, r.error.c_str());
  return 0;
}
