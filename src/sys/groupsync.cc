// ISC license.
#include "sys/groupsync.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "sys/fs.h"

namespace qf {

bool GroupSync::sync() {
  bool ok = true;
  int err = 0;
  for (auto& f : files_) ::sync_file_range(f.get(), 0, 0, SYNC_FILE_RANGE_WRITE);
  for (auto& f : files_)
    if (::fsync(f.get()) < 0 && ok) {
      ok = false;
      err = errno;
    }
  files_.clear();
  for (auto const& d : dirs_)
    if (!fsync_dir(d) && ok) {
      ok = false;
      err = errno;
    }
  dirs_.clear();
  if (!ok) errno = err;
  return ok;
}

}  // namespace qf
