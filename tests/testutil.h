// ISC license.
// Helpers shared by the unit tests: scratch directories and file snapshots.
#ifndef QF_TESTS_TESTUTIL_H
#define QF_TESTS_TESTUTIL_H

#include <dirent.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <map>
#include <string>

#include "sys/fs.h"

namespace qf::test {

/// A temporary directory removed (recursively) when the object dies.
class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/qftest.XXXXXX";
    char* p = mkdtemp(tmpl);
    path_ = p ? p : "";
  }
  ~TempDir() {
    if (!path_.empty()) {
      std::string cmd = "rm -rf '" + path_ + "'";
      int r = system(cmd.c_str());
      (void)r;
    }
  }
  std::string const& path() const { return path_; }
  std::string operator/(std::string const& rel) const { return path_ + "/" + rel; }

 private:
  std::string path_;
};

/// Every regular file under root (relative path -> contents), for before/after comparisons.
inline void snapshot_into(std::string const& root, std::string const& rel,
                          std::map<std::string, std::string>* out) {
  std::string dir = rel.empty() ? root : root + "/" + rel;
  DIR* d = opendir(dir.c_str());
  if (!d) return;
  while (struct dirent* e = readdir(d)) {
    std::string n = e->d_name;
    if (n == "." || n == "..") continue;
    std::string r = rel.empty() ? n : rel + "/" + n;
    struct stat st;
    if (lstat((root + "/" + r).c_str(), &st) < 0) continue;
    if (S_ISDIR(st.st_mode)) {
      (*out)[r + "/"] = "";
      snapshot_into(root, r, out);
    } else if (S_ISREG(st.st_mode)) {
      std::string data;
      read_file((root + "/" + r).c_str(), &data, 1 << 26);
      (*out)[r] = data;
    } else {
      (*out)[r] = "<special>";
    }
  }
  closedir(d);
}

inline std::map<std::string, std::string> snapshot(std::string const& root) {
  std::map<std::string, std::string> m;
  snapshot_into(root, "", &m);
  return m;
}

inline bool write_text(std::string const& path, std::string const& data) {
  FILE* f = fopen(path.c_str(), "w");
  if (!f) return false;
  size_t w = fwrite(data.data(), 1, data.size(), f);
  return fclose(f) == 0 && w == data.size();
}

}  // namespace qf::test

#endif
