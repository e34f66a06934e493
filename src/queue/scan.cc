// ISC license.
#include "queue/scan.h"

#include <dirent.h>

#include <algorithm>
#include <string>

#include "sys/fs.h"

namespace qf::queue {

namespace {

bool read_ids(std::string const& dir, std::vector<uint64_t>* out) {
  DIR* d = ::opendir(dir.c_str());
  if (!d) return false;
  while (struct dirent* e = ::readdir(d)) {
    uint64_t id;
    if (scan_u64(e->d_name, &id)) out->push_back(id);
  }
  ::closedir(d);
  return true;
}

}  // namespace

std::vector<uint64_t> list_ids(Layout const& q, Dir d, bool* ok) {
  std::vector<uint64_t> ids;
  bool all = true;
  if (q.is_split(d)) {
    for (unsigned b = 0; b < q.split(); b++) all &= read_ids(q.subdir(d, b), &ids);
  } else {
    all &= read_ids(q.dir(d), &ids);
  }
  std::sort(ids.begin(), ids.end());
  if (ok) *ok = all;
  return ids;
}

}  // namespace qf::queue
