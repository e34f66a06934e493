// ISC license.
#include "queue/trigger.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <set>

#include "conf/paths.h"
#include "multi/ipc.h"
#include "sys/fd.h"

namespace qf::queue {

bool pull_trigger(Layout const& q, std::string_view bytes) {
  Fd fd(::open(q.lock("trigger").c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC));
  if (!fd.ok()) return false;
  ssize_t w = ::write(fd.get(), bytes.data(), bytes.size());
  return w == ssize_t(bytes.size());
}

std::string flush_destination_request(std::string_view domain) {
  std::string r = "R";
  for (char c : domain)
    if (c != '\n' && c != '\0') r.push_back(c);
  r.push_back('\n');
  return r;
}

std::string flush_sender_request(std::string_view sender) {
  std::string r = "S";
  for (char c : sender)
    if (c != '\n' && c != '\0') r.push_back(c);
  r.push_back('\n');
  return r;
}

std::vector<QueueRef> instance_queues() {
  std::vector<QueueRef> v;
  char const* qd = conf::safe_env("QUEUEDIR");
  if (qd && *qd) {
    v.push_back({0, qd});
    return v;
  }
  std::string base = conf::queue_base();
  std::set<unsigned> numbers;
  multi::Shm shm;
  if (shm.attach(base, false))
    for (unsigned n = 1; n <= multi::kMaxQueues; n++)
      if (multi::QState(shm.slot(n)->state.load()) != multi::QState::absent) numbers.insert(n);
  for (unsigned n = 1; n <= 1000; n++) {
    struct stat st;
    if (::stat((base + "/queue" + std::to_string(n) + "/lock").c_str(), &st) == 0) numbers.insert(n);
    else if (n > multi::kMaxQueues) break;
  }
  for (unsigned n : numbers) {
    std::string d = base + "/queue" + std::to_string(n);
    struct stat st;
    if (::stat(d.c_str(), &st) == 0) v.push_back({n, d});
  }
  if (v.empty()) v.push_back({0, conf::default_queue()});
  return v;
}

std::vector<std::string> flush_targets() {
  std::vector<std::string> v;
  for (auto& q : instance_queues()) v.push_back(std::move(q.dir));
  return v;
}

}  // namespace qf::queue
