// ISC license.
#include "conf/control.h"

#include <errno.h>
#include <sys/stat.h>

#include "conf/paths.h"
#include "sys/fs.h"

namespace qf::conf {

std::string control_path(std::string_view name) { return path_join(control_dir(), name); }

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

namespace {

// Reads the file; *present=false when it does not exist.
bool slurp(std::string_view name, std::string* data, bool* present) {
  if (read_file(control_path(name).c_str(), data, 64 << 20)) {
    *present = true;
    return true;
  }
  if (errno == ENOENT) {
    *present = false;
    return true;
  }
  return false;
}

}  // namespace

bool control_line(std::string_view name, std::string* out, std::string_view def) {
  std::string data;
  bool present;
  if (!slurp(name, &data, &present)) return false;
  std::string_view line;
  if (present) {
    std::string_view all(data);
    line = trim(all.substr(0, all.find('\n')));
  }
  *out = line.empty() ? std::string(def) : std::string(line);
  return true;
}

bool control_uint(std::string_view name, uint64_t* out, uint64_t def) {
  std::string line;
  if (!control_line(name, &line, "")) return false;
  if (line.empty()) {
    *out = def;
    return true;
  }
  if (!scan_u64(line, out)) {
    errno = EINVAL;
    return false;
  }
  return true;
}

bool control_list(std::string_view name, std::vector<std::string>* out) {
  out->clear();
  std::string data;
  bool present;
  if (!slurp(name, &data, &present)) return false;
  std::string_view all(data);
  while (!all.empty()) {
    size_t nl = all.find('\n');
    std::string_view line = trim(all.substr(0, nl));
    all = nl == std::string_view::npos ? std::string_view() : all.substr(nl + 1);
    if (line.empty() || line.front() == '#') continue;
    out->emplace_back(line);
  }
  return true;
}

bool control_exists(std::string_view name) {
  struct stat st;
  return ::lstat(control_path(name).c_str(), &st) == 0;
}

bool ControlStamps::take(char const* const* names, size_t n) {
  v_.clear();
  valid_ = false;
  for (size_t i = 0; i < n; i++) {
    Stamp t;
    struct stat st;
    if (::stat(control_path(names[i]).c_str(), &st) == 0) {
      t.present = true;
      t.dev = st.st_dev;
      t.ino = st.st_ino;
      t.size = st.st_size;
      t.mtime = st.st_mtim;
      t.ctime = st.st_ctim;
    } else if (errno != ENOENT && errno != ENOTDIR) {
      return false;
    }
    v_.push_back(t);
  }
  valid_ = true;
  return true;
}

bool ControlStamps::operator==(ControlStamps const& o) const {
  if (!valid_ || !o.valid_ || v_.size() != o.v_.size()) return false;
  for (size_t i = 0; i < v_.size(); i++) {
    Stamp const &a = v_[i], &b = o.v_[i];
    if (a.present != b.present || a.dev != b.dev || a.ino != b.ino || a.size != b.size ||
        a.mtime.tv_sec != b.mtime.tv_sec || a.mtime.tv_nsec != b.mtime.tv_nsec ||
        a.ctime.tv_sec != b.ctime.tv_sec || a.ctime.tv_nsec != b.ctime.tv_nsec)
      return false;
  }
  return true;
}

}  // namespace qf::conf
