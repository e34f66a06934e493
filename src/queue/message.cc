// ISC license.
#include "queue/message.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>

#include <cstring>

namespace qf::queue {

bool open_message(Layout const& q, uint64_t id, uid_t owner, Fd* out, std::string* why) {
  std::string path = q.path(Dir::mess, id);
  Fd fd(::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
  if (!fd.ok()) {
    *why = errno == ELOOP ? "Sorry, message is a symbolic link. (#4.3.5)"
                          : "Unable to open message: " + std::string(std::strerror(errno)) + ". (#4.3.0)";
    return false;
  }
  struct stat st;
  if (::fstat(fd.get(), &st) < 0) {
    *why = "Unable to fstat message: " + std::string(std::strerror(errno)) + ". (#4.3.0)";
    return false;
  }
  if (!S_ISREG(st.st_mode)) *why = "Sorry, message has wrong type. (#4.3.5)";
  else if (st.st_uid != owner) *why = "Sorry, message has wrong owner. (#4.3.5)";
  else if (uint64_t(st.st_ino) != id) *why = "Sorry, message has wrong inode number. (#4.3.5)";
  else if (st.st_nlink != 1) *why = "Sorry, message has wrong link count. (#4.3.5)";
  else why->clear();
  if (!why->empty()) return false;
  int fl = ::fcntl(fd.get(), F_GETFL);
  if (fl < 0 || ::fcntl(fd.get(), F_SETFL, fl & ~O_NONBLOCK) < 0) {
    *why = "Unable to set up message: " + std::string(std::strerror(errno)) + ". (#4.3.0)";
    return false;
  }
  *out = std::move(fd);
  return true;
}

}  // namespace qf::queue
