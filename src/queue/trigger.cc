// ISC license.
#include "queue/trigger.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf/paths.h"
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

std::vector<std::string> flush_targets() {
  std::vector<std::string> v;
  char const* qd = conf::safe_env("QUEUEDIR");
  if (qd && *qd) {
    v.push_back(qd);
    return v;
  }
  std::string base = conf::queue_base();
  for (unsigned n = 1; n <= 1000; n++) {
    std::string d = base + "/queue" + std::to_string(n);
    struct stat st;
    if (::stat((d + "/lock").c_str(), &st) == 0) v.push_back(d);
    else if (n > 64) break;
  }
  if (v.empty()) v.push_back(conf::default_queue());
  return v;
}

}  // namespace qf::queue
