// ISC license.
#include "multi/ipc.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <mqueue.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "sys/fd.h"

namespace qf::multi {

static_assert(std::atomic<uint32_t>::is_always_lock_free);
static_assert(std::atomic<uint64_t>::is_always_lock_free);

char const* state_name(QState s) {
  switch (s) {
    case QState::absent: return "absent";
    case QState::starting: return "starting";
    case QState::active: return "active";
    case QState::draining: return "draining";
    case QState::stopped: return "stopped";
  }
  return "?";
}

unsigned load_of(QueueSlot const& s) {
  uint32_t lm = s.lmax.load(std::memory_order_relaxed), rm = s.rmax.load(std::memory_order_relaxed);
  uint32_t lu = s.lused.load(std::memory_order_relaxed), ru = s.rused.load(std::memory_order_relaxed);
  unsigned l = lm ? unsigned(uint64_t(std::min(lu, lm)) * 100 / lm) : 0;
  unsigned r = rm ? unsigned(uint64_t(std::min(ru, rm)) * 100 / rm) : 0;
  unsigned load = l > r ? l : r;
  if (s.backlog.load(std::memory_order_relaxed) > 0 && (lm || rm)) load = 100;
  return load;
}

std::string ipc_prefix(std::string const& base) {
  char buf[PATH_MAX];
  std::string b = ::realpath(base.c_str(), buf) ? std::string(buf) : base;
  uint64_t h = 14695981039346656037ull;  // FNV-1a
  for (unsigned char c : b) {
    h ^= c;
    h *= 1099511628211ull;
  }
  char hex[17];
  for (int i = 15; i >= 0; i--, h >>= 4) hex[i] = "0123456789abcdef"[h & 15];
  hex[16] = 0;
  return std::string("/qfleet1.") + hex;
}

std::string shm_name(std::string const& base) { return ipc_prefix(base); }

std::string mq_name(std::string const& base, unsigned queue) {
  return ipc_prefix(base) + ".q" + std::to_string(queue);
}

Shm::~Shm() {
  if (seg_) ::munmap(seg_, sizeof(Segment));
}

bool Shm::attach(std::string const& base, bool writable) {
  Fd fd(::shm_open(shm_name(base).c_str(), (writable ? O_RDWR : O_RDONLY) | O_CLOEXEC, 0));
  if (!fd.ok()) return false;
  struct stat st;
  if (::fstat(fd.get(), &st) < 0 || size_t(st.st_size) < sizeof(Segment)) return false;
  // Only root's (qscheduler as root) or our own (the embedded default): a
  // segment another user made could steer or starve injections.
  if (st.st_uid != 0 && st.st_uid != ::geteuid() && st.st_uid != ::getuid()) {
    errno = EPERM;
    return false;
  }
  void* p = ::mmap(nullptr, sizeof(Segment), PROT_READ | (writable ? PROT_WRITE : 0), MAP_SHARED,
                   fd.get(), 0);
  if (p == MAP_FAILED) return false;
  auto* s = static_cast<Segment*>(p);
  if (s->h.magic != kMagic || s->h.version != kVersion) {
    ::munmap(p, sizeof(Segment));
    errno = EPROTO;
    return false;
  }
  seg_ = s;
  return true;
}

bool Shm::create(std::string const& base, uid_t uid, gid_t gid, mode_t mode) {
  std::string name = shm_name(base);
  ::shm_unlink(name.c_str());  // stale, or squatted by someone else: never trusted
  Fd fd(::shm_open(name.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, mode));
  if (!fd.ok()) return false;
  if (::fchown(fd.get(), uid, gid) < 0 && geteuid() == 0) return false;
  if (::fchmod(fd.get(), mode) < 0) return false;
  if (::ftruncate(fd.get(), sizeof(Segment)) < 0) return false;
  void* p = ::mmap(nullptr, sizeof(Segment), PROT_READ | PROT_WRITE, MAP_SHARED, fd.get(), 0);
  if (p == MAP_FAILED) return false;
  std::memset(p, 0, sizeof(Segment));
  seg_ = static_cast<Segment*>(p);
  seg_->h.version = kVersion;
  std::atomic_thread_fence(std::memory_order_release);
  seg_->h.magic = kMagic;
  return true;
}

void Shm::remove(std::string const& base) { ::shm_unlink(shm_name(base).c_str()); }

QueueSlot* Shm::slot(unsigned n) const {
  if (!seg_ || n == 0 || n > kMaxQueues) return nullptr;
  return &seg_->q[n - 1];
}

bool notify(std::string const& base, unsigned n, uint64_t id) {
  mqd_t q = ::mq_open(mq_name(base, n).c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC);
  if (q == mqd_t(-1)) return false;
  char msg[8];
  std::memcpy(msg, &id, 8);
  bool ok = ::mq_send(q, msg, sizeof msg, 0) == 0;
  ::mq_close(q);
  return ok;
}

}  // namespace qf::multi
