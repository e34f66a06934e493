// ISC license.
#include "conf/paths.h"

#include <limits.h>
#include <stdlib.h>
#include <sys/auxv.h>
#include <unistd.h>

#include "conf/auto.h"
#include "sys/fs.h"

namespace qf::conf {

// What the kernel told this process at exec: it gained privileges (a set-id
// program). The same test glibc's secure_getenv makes, and no system call:
// every path lookup asks it.
bool running_setuid() { return getauxval(AT_SECURE) != 0; }

char const* safe_env(char const* name) {
  if (running_setuid()) return nullptr;
  char const* v = getenv(name);
  return v && *v ? v : nullptr;
}

std::string home() {
  char const* h = safe_env("QMAILHOME");
  return h ? h : auto_qmail;
}

std::string control_dir() {
  char const* c = safe_env("CONTROLDIR");
  return c ? std::string(c) : path_join(home(), "control");
}

std::string queue_base() {
  char const* b = safe_env("QUEUE_BASE");
  return b ? std::string(b) : path_join(home(), "queue");
}

std::string default_queue() { return path_join(home(), "queue"); }

unsigned split() {
  char const* s = getenv("CONFSPLIT");
  uint64_t n;
  if (s && scan_u64(s, &n) && n >= 1) return n < auto_split ? unsigned(n) : auto_split;
  return auto_split;
}

bool bigtodo() {
  char const* s = getenv("BIGTODO");
  return s && *s && !(s[0] == '0' && !s[1]);
}

std::string bin_dir() {
  char buf[PATH_MAX];
  ssize_t r = readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (r > 0) {
    buf[r] = 0;
    return dir_of(buf);
  }
  return path_join(home(), "bin");
}

std::string program(char const* prog) { return path_join(bin_dir(), prog); }

}  // namespace qf::conf
