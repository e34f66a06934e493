// ISC license.
// qmail-qstat: how many messages are queued, and how many still wait for
// todo-proc, per queue and in all. See qmail-qstat(8).
#include <unistd.h>

#include <string>

#include "admin/read.h"
#include "queue/trigger.h"
#include "sys/exitcodes.h"
#include "sys/fs.h"
#include "sys/strerr.h"

char const* PROG = "qmail-qstat";

namespace {
constexpr char kUsage[] = "qmail-qstat";
}

int main(int argc, char** argv) {
  using namespace qf;
  if (getopt(argc, argv, "") != -1 || optind != argc) die_usage(kUsage);
  auto queues = queue::instance_queues();
  uint64_t messages = 0, todo = 0;
  int rc = ex::ok;
  std::string out;
  for (auto const& q : queues) {
    admin::Counts c = admin::count_queue(queue::Layout::from_env(q.dir));
    if (!c.ok) {
      warn("unable to read every directory of ", q.dir.c_str());
      rc = ex::temp;
    }
    messages += c.messages;
    todo += c.todo;
    if (q.number) {
      std::string p = "queue" + fmt_u64(q.number) + ": ";
      out += p + "messages in queue: " + fmt_u64(c.messages) + "\n";
      out += p + "messages in queue but not yet preprocessed: " + fmt_u64(c.todo) + "\n";
    }
  }
  out += "messages in queue: " + fmt_u64(messages) + "\n";
  out += "messages in queue but not yet preprocessed: " + fmt_u64(todo) + "\n";
  if (!write_all(1, out)) die_sys(ex::temp, "unable to write output");
  return rc;
}
