// ISC license.
// Fd: sole owner of one file descriptor; closes it on destruction.
#ifndef QF_SYS_FD_H
#define QF_SYS_FD_H

#include <unistd.h>

namespace qf {

class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() { reset(); }
  Fd(Fd&& o) noexcept : fd_(o.release()) {}
  Fd& operator=(Fd&& o) noexcept {
    if (this != &o) reset(o.release());
    return *this;
  }
  Fd(Fd const&) = delete;
  Fd& operator=(Fd const&) = delete;

  int get() const { return fd_; }
  bool ok() const { return fd_ >= 0; }
  /// Gives up ownership: the caller must close the returned fd.
  int release() {
    int fd = fd_;
    fd_ = -1;
    return fd;
  }
  /// Closes the held fd (errors ignored: nothing useful to do) and takes fd.
  void reset(int fd = -1) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }
  /// Closes the held fd and reports close(2)'s verdict (for written files).
  bool close() {
    int fd = release();
    return fd < 0 || ::close(fd) == 0;
  }

 private:
  int fd_ = -1;
};

}  // namespace qf

#endif
