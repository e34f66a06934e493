// ISC license.
// qmail-showctl: every control file qfleet reads, its value or default, and
// which are set. See qmail-showctl(8).
#include <dirent.h>
#include <unistd.h>

#include <algorithm>
#include <string>
#include <vector>

#include "admin/controls.h"
#include "conf/control.h"
#include "conf/paths.h"
#include "sys/exitcodes.h"
#include "sys/fs.h"
#include "sys/strerr.h"

char const* PROG = "qmail-showctl";

namespace {
constexpr char kUsage[] = "qmail-showctl";
}

int main(int argc, char** argv) {
  using namespace qf;
  if (getopt(argc, argv, "") != -1 || optind != argc) die_usage(kUsage);
  int rc = ex::ok;
  std::string out = "qmail home directory: " + conf::home() + "\ncontrol directory: " + conf::control_dir() + "\n\n";
  for (auto const& c : admin::control_specs()) {
    std::vector<std::string> lines;
    bool exists = conf::control_exists(c.name);
    bool ok = true;
    if (exists) {
      if (c.kind == admin::Kind::list) {
        ok = conf::control_list(c.name, &lines);
      } else {
        std::string v;
        ok = conf::control_line(c.name, &v, "");
        lines.push_back(v);
      }
    }
    if (!ok) {
      out += std::string(c.name) + ": unable to read " + conf::control_path(c.name) + "\n";
      rc = ex::temp;
      continue;
    }
    out += admin::show_control(c, exists, lines);
  }
  // Files in the control directory that no program reads (typos, leftovers).
  std::vector<std::string> unknown;
  if (DIR* d = ::opendir(conf::control_dir().c_str())) {
    while (struct dirent* e = ::readdir(d)) {
      std::string n = e->d_name;
      if (n[0] == '.' || admin::find_control(n)) continue;
      unknown.push_back(n);
    }
    ::closedir(d);
  }
  std::sort(unknown.begin(), unknown.end());
  for (auto const& n : unknown) out += n + ": not read by any qfleet program\n";
  if (!write_all(1, out)) die_sys(ex::temp, "unable to write output");
  return rc;
}
