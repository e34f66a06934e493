// ISC license.
#include "queue/trigger.h"

#include <fcntl.h>
#include <unistd.h>

#include "sys/fd.h"

namespace qf::queue {

void pull_trigger(Layout const& q, std::string_view bytes) {
  Fd fd(::open(q.lock("trigger").c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC));
  if (!fd.ok()) return;
  ssize_t w = ::write(fd.get(), bytes.data(), bytes.size());
  (void)w;
}

}  // namespace qf::queue
