// ISC license.
// qmail-clean: remove queue files on request. See qmail-clean(8).
#include <errno.h>
#include <fcntl.h>
#include <time.h>
#include <unistd.h>

#include <string>

#include "conf/paths.h"
#include "queue/clean.h"
#include "queue/sweep.h"
#include "sys/exitcodes.h"
#include "sys/fs.h"
#include "sys/skalibs.h"
#include "sys/strerr.h"

char const* PROG = "qmail-clean";

int main() {
  using namespace qf;
  char const* qd = getenv("QUEUEDIR");
  queue::Layout q = queue::Layout::from_env(qd && *qd ? qd : conf::default_queue());
  // What a crash left that no request will name (queue/sweep.h).
  if (unsigned n = queue::sweep_orphan_envelopes(q); n && ::fcntl(2, F_GETFD) >= 0)
    info(("removed " + fmt_u64(n) + " envelope(s) in intd/ whose message is gone").c_str());
  queue::Cleaner c(q);
  std::string in, out;
  char buf[4096];
  for (;;) {
    ssize_t r = ::read(0, buf, sizeof buf);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return r < 0 ? ex::temp : ex::ok;
    in.append(buf, size_t(r));
    // Every complete request of this burst, then one sync, then the answers.
    size_t start = 0, nul;
    size_t todo_from = out.size();
    bool any = false;
    while ((nul = in.find('\0', start)) != std::string::npos) {
      out.push_back(c.handle(std::string_view(in).substr(start, nul - start)));
      start = nul + 1;
      any = true;
    }
    in.erase(0, start);
    if (in.size() > 200) return ex::perm;  // no request is that long: the peer is broken
    if (!any) continue;
    if (!c.sync())
      for (size_t i = todo_from; i < out.size(); i++)
        if (out[i] == '+') out[i] = '!';
    if (!write_all(1, out)) return ex::temp;
    out.clear();
    c.maybe_sweep(time(nullptr));
  }
}
