// ISC license.
#include "queue/select.h"

#include <limits.h>
#include <stdlib.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "conf/paths.h"
#include "sys/exitcodes.h"
#include "sys/fs.h"

namespace qf::queue {

std::string QueueSet::queue(unsigned n) const { return path_join(base, "queue" + fmt_u64(n)); }

namespace {

bool env_uint(char const* name, unsigned* out) {
  char const* s = getenv(name);
  uint64_t n;
  if (!s || !*s || !scan_u64(s, &n) || n > 100000) return false;
  *out = unsigned(n);
  return true;
}

std::string real(std::string const& p) {
  char buf[PATH_MAX];
  return ::realpath(p.c_str(), buf) ? std::string(buf) : std::string();
}

// Under setuid: is dir the default queue or base/queueN?
bool inside_base(std::string const& dir) {
  std::string r = real(dir);
  if (r.empty()) return false;
  if (r == real(conf::default_queue())) return true;
  std::string base = real(conf::queue_base());
  if (base.empty() || r.size() <= base.size() + 6 || r.compare(0, base.size(), base) != 0 ||
      r[base.size()] != '/')
    return false;
  std::string rest = r.substr(base.size() + 1);
  uint64_t n;
  return rest.compare(0, 5, "queue") == 0 && scan_u64(rest.substr(5), &n);
}

}  // namespace

bool queue_set_from_env(QueueSet* out) {
  bool have_base = conf::safe_env("QUEUE_BASE") != nullptr;
  unsigned count = 1, start = 1;
  bool have_count = env_uint("QUEUE_COUNT", &count);
  if (!have_base && !have_count) return false;
  env_uint("QUEUE_START", &start);
  out->base = conf::queue_base();
  out->start = start;
  out->count = count ? count : 1;
  return true;
}

bool choose_queue(std::string* dir, int* code) {
  if (char const* qd = getenv("QUEUEDIR"); qd && *qd) {
    if (conf::running_setuid() && !inside_base(qd)) {
      *code = qq::queuedir;
      return false;
    }
    *dir = qd;
    return true;
  }
  QueueSet set;
  if (queue_set_from_env(&set)) {
    *dir = set.queue(set.start + random32() % set.count);
    return true;
  }
  *dir = conf::default_queue();
  return true;
}

uint32_t random32() {
  uint32_t r;
  if (::getrandom(&r, sizeof r, GRND_NONBLOCK) == ssize_t(sizeof r)) return r;
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return uint32_t(ts.tv_nsec) ^ uint32_t(getpid()) * 2654435761u;
}

}  // namespace qf::queue
