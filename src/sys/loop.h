// ISC license.
// Pieces of the daemons' event loops: signals through skalibs' selfpipe,
// waiting on fds with a timeout, and buffered non-blocking pipe I/O.
#ifndef QF_SYS_LOOP_H
#define QF_SYS_LOOP_H

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>

#include "sys/skalibs.h"

namespace qf {

/// The process's signals as bytes on a pipe (skalibs selfpipe). One per process.
class SignalPipe {
 public:
  /// Traps sigs (their default actions are replaced). False with errno on failure.
  bool init(std::initializer_list<int> sigs);
  int fd() const { return fd_; }
  /// The next pending signal, 0 when none, -1 on error.
  int next();
  /// Restores default dispositions (in a child before exec).
  static void undo_in_child();

 private:
  int fd_ = -1;
};

/// iopause over x[0..n) for at most timeout_ms (< 0: forever). Returns the
/// number of ready fds, 0 on timeout, -1 on error (EINTR is retried).
int wait_fds(iopause_fd* x, unsigned n, int64_t timeout_ms);

/// Output queued for a non-blocking fd; flush() writes what the pipe takes.
class OutQueue {
 public:
  OutQueue() = default;
  explicit OutQueue(int fd) : fd_(fd) {}
  void attach(int fd) { fd_ = fd; }
  int fd() const { return fd_; }
  void put(std::string_view s) { buf_.append(s); }
  bool pending() const { return pos_ < buf_.size(); }
  size_t size() const { return buf_.size() - pos_; }
  /// Writes as much as possible. False on a write error (errno set; EPIPE: peer gone).
  bool flush();

 private:
  int fd_ = -1;
  std::string buf_;
  size_t pos_ = 0;
};

/// Reads what is available on fd into *buf (appending). Returns bytes read,
/// 0 at EOF, -1 on error (EAGAIN: nothing now).
ssize_t read_some(int fd, std::string* buf, size_t max = 1 << 16);

/// Sets O_NONBLOCK on fd.
bool set_nonblock(int fd);

}  // namespace qf

#endif
