// ISC license.
#include "queue/select.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include <vector>

#include "conf/paths.h"
#include "multi/ipc.h"
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

// Shared lock on queue dir's lock/drain; false if a drainer holds it. A queue
// without the file (made by an older queue-fix) is taken without a lock.
bool lock_for_injection(std::string const& dir, Fd* out) {
  Fd fd(::open((dir + "/lock/drain").c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  // EACCES: a client such as qmail-smtpd (qmaild) cannot reach lock/; the
  // queue's qmail-queued or qmail-queue takes the lock for it.
  if (!fd.ok()) return errno == ENOENT || errno == EACCES;
  if (::flock(fd.get(), LOCK_SH | LOCK_NB) < 0) return false;
  *out = std::move(fd);
  return true;
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

Policy policy_from_env(bool dynamic) {
  char const* p = getenv("QUEUE_POLICY");
  std::string_view v = p ? p : "";
  if (v == "random") return Policy::random;
  if (v == "least") return Policy::least;
  if (v == "hash") return Policy::hash;
  return dynamic ? Policy::least : Policy::random;
}

uint64_t hash64(std::string_view s) {
  uint64_t h = 14695981039346656037ull;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

bool choose_queue(std::string_view head, Choice* out, int* code) {
  if (char const* qd = getenv("QUEUEDIR"); qd && *qd) {
    if (conf::running_setuid() && !inside_base(qd)) {
      *code = qq::queuedir;
      return false;
    }
    out->dir = qd;
    lock_for_injection(out->dir, &out->drain_lock);  // a draining queue named explicitly is still used
    return true;
  }
  QueueSet set;
  if (!queue_set_from_env(&set)) {
    out->dir = conf::default_queue();
    return true;
  }
  // Candidates: the segment's active queues when qscheduler publishes one.
  multi::Shm shm;
  bool have_shm = shm.attach(set.base, false);
  bool dynamic = false;
  struct Cand {
    unsigned n;
    unsigned load;
  };
  std::vector<Cand> cands;
  if (have_shm) {
    multi::Header const& h = shm.get()->h;
    dynamic = h.dynamic.load() != 0;
    unsigned start = h.start.load(), count = h.count.load();
    uint32_t now = uint32_t(::time(nullptr));
    for (unsigned n = start; n < start + count && n <= multi::kMaxQueues; n++) {
      multi::QueueSlot const* s = shm.slot(n);
      if (!s || multi::QState(s->state.load()) != multi::QState::active) continue;
      unsigned load = multi::load_of(*s);
      if (now - s->heartbeat.load() > 60) load = 100;  // qmail-send silent: assume busy
      cands.push_back({n, load});
    }
    out->notify = dynamic;
    out->trigger = !dynamic || h.compat.load() != 0;
  }
  if (cands.empty())
    for (unsigned i = 0; i < set.count; i++) cands.push_back({set.start + i, 0});
  Policy pol = policy_from_env(dynamic);
  uint64_t h = hash64(head);
  while (!cands.empty()) {
    size_t pick = 0;
    if (pol == Policy::hash) {
      pick = size_t((unsigned __int128)h * cands.size() >> 64);
    } else if (pol == Policy::least) {
      unsigned best = UINT_MAX, ties = 0;
      for (size_t i = 0; i < cands.size(); i++) {
        if (cands[i].load < best) {
          best = cands[i].load;
          pick = i;
          ties = 1;
        } else if (cands[i].load == best && random32() % ++ties == 0) {
          pick = i;
        }
      }
    } else {
      pick = random32() % cands.size();
    }
    std::string dir = set.queue(cands[pick].n);
    Fd lock;
    if (lock_for_injection(dir, &lock)) {
      out->dir = dir;
      out->base = set.base;
      out->number = cands[pick].n;
      out->drain_lock = std::move(lock);
      if (!have_shm) out->notify = false;
      return true;
    }
    cands.erase(cands.begin() + long(pick));  // being drained: never picked
  }
  *code = qq::queuedir;
  return false;
}

uint32_t random32() {
  uint32_t r;
  if (::getrandom(&r, sizeof r, GRND_NONBLOCK) == ssize_t(sizeof r)) return r;
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return uint32_t(ts.tv_nsec) ^ uint32_t(getpid()) * 2654435761u;
}

}  // namespace qf::queue
