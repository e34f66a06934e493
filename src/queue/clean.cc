// ISC license.
#include "queue/clean.h"

#include <errno.h>
#include <unistd.h>

#include "queue/sweep.h"
#include "sys/fs.h"

namespace qf::queue {

char Cleaner::handle(std::string_view req) {
  since_sweep_++;
  if (req.size() < 6 || req.size() > 100) return 'x';
  bool foop = req.substr(0, 5) == "foop/";
  bool todo = req.substr(0, 5) == "todo/";
  uint64_t id;
  if ((!foop && !todo) || !scan_u64(req.substr(5), &id)) return 'x';
  bool ok = true;
  if (::unlink(q_.path(Dir::intd, id).c_str()) < 0 && errno != ENOENT) ok = false;
  if (foop) {
    if (::unlink(q_.path(Dir::mess, id).c_str()) < 0 && errno != ENOENT) ok = false;
  } else {
    if (::unlink(q_.path(Dir::todo, id).c_str()) < 0 && errno != ENOENT) ok = false;
    dirty_.insert(q_.dir_of(Dir::todo, id));
  }
  return ok ? '+' : '!';
}

bool Cleaner::sync() {
  bool ok = true;
  for (auto const& d : dirty_)
    if (!fsync_dir(d)) ok = false;
  dirty_.clear();
  return ok;
}

void Cleaner::maybe_sweep(time_t now) {
  if (since_sweep_ < 30) return;
  since_sweep_ = 0;
  sweep_pid(q_, now);
}

}  // namespace qf::queue
