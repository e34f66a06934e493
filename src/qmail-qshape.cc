// ISC license.
// qmail-qshape: Postfix's qshape for qfleet's queues: messages by recipient
// (or sender) domain and age. See qmail-qshape(8).
#include <time.h>
#include <unistd.h>

#include <string>

#include "admin/format.h"
#include "admin/read.h"
#include "queue/trigger.h"
#include "sys/exitcodes.h"
#include "sys/fs.h"
#include "sys/strerr.h"

char const* PROG = "qmail-qshape";

namespace {
constexpr char kUsage[] =
    "qmail-qshape [ -s ] [ -t minutes ] [ -b buckets ] [ -n top ] [ incoming | active | deferred | hold | corrupt ... ]";
}

int main(int argc, char** argv) {
  using namespace qf;
  admin::ShapeOptions o;
  int opt;
  uint64_t v;
  while ((opt = getopt(argc, argv, "st:b:n:")) != -1) {
    switch (opt) {
      case 's': o.by_sender = true; break;
      case 't':
        if (!scan_u64(optarg, &v) || v < 1 || v > 100000) die_usage(kUsage);
        o.width = unsigned(v);
        break;
      case 'b':
        if (!scan_u64(optarg, &v) || v < 2 || v > 30) die_usage(kUsage);
        o.buckets = unsigned(v);
        break;
      case 'n':
        if (!scan_u64(optarg, &v) || v > 1000000) die_usage(kUsage);
        o.top = unsigned(v);
        break;
      default: die_usage(kUsage);
    }
  }
  if (optind < argc) {
    o.states.clear();
    for (int i = optind; i < argc; i++) {
      admin::State s;
      if (!admin::parse_state(argv[i], &s)) die_usage(kUsage);
      o.states.push_back(s);
    }
  }
  int rc = ex::ok;
  admin::Scan scan;
  for (auto const& q : queue::instance_queues())
    admin::read_queue(queue::Layout::from_env(q.dir), q.number, true, &scan);
  for (auto const& e : scan.errors) {
    warn(e.c_str());
    rc = ex::temp;
  }
  admin::Shape s = admin::shape(scan.messages, o, ::time(nullptr));
  if (!write_all(1, admin::shape_text(s, o.top))) die_sys(ex::temp, "unable to write output");
  return rc;
}
