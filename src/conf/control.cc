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

}  // namespace qf::conf
