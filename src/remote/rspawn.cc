// ISC license.
#include "remote/rspawn.h"

#include <errno.h>
#include <unistd.h>

#include <string>

#include "conf/auto.h"
#include "proto/spawn.h"
#include "sys/exitcodes.h"
#include "sys/fs.h"

namespace qf::remote {

int rspawn_defer_all() {
  unsigned slots = conf::auto_spawn < spawn::kMaxSlots ? conf::auto_spawn : spawn::kMaxSlots;
  if (!write_all(1, spawn::encode_slots(slots))) return ex::temp;
  spawn::CommandReader reader;
  char buf[1 << 16];
  for (;;) {
    ssize_t r = ::read(0, buf, sizeof buf);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return r < 0 ? ex::temp : ex::ok;
    size_t pos = 0;
    std::string out;
    while (pos < size_t(r)) {
      size_t used;
      auto st = reader.feed(buf + pos, size_t(r) - pos, &used);
      pos += used;
      if (st == spawn::CommandReader::Status::bad) return ex::perm;
      if (st != spawn::CommandReader::Status::command) continue;
      spawn::Command c = reader.take();
      std::vector<spawn::Result> res(c.rcpts.size(),
                                     {'Z', "Sorry, this qfleet build has no remote delivery yet. (#4.3.0)\n"});
      spawn::encode_report(c.slot, res, &out);
    }
    if (!out.empty() && !write_all(1, out)) return ex::temp;
  }
}

}  // namespace qf::remote
