// ISC license.
#include "sys/loop.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

namespace qf {

bool SignalPipe::init(std::initializer_list<int> sigs) {
  fd_ = selfpipe_init();
  if (fd_ < 0) return false;
  sigset_t set;
  sigemptyset(&set);
  for (int s : sigs) sigaddset(&set, s);
  return selfpipe_trapset(&set) != 0;
}

int SignalPipe::next() { return selfpipe_read(); }

void SignalPipe::undo_in_child() {
  selfpipe_finish();
  ::signal(SIGPIPE, SIG_DFL);  // a daemon's SIG_IGN is not for the programs it runs
  sigset_t set;
  sigemptyset(&set);
  sigprocmask(SIG_SETMASK, &set, nullptr);
}

int wait_fds(iopause_fd* x, unsigned n, int64_t timeout_ms) {
  for (;;) {
    tain_now_set_wallclock_g();
    tain deadline;
    if (timeout_ms < 0) {
      deadline = tain_infinite_relative;
      tain_add_g(&deadline, &deadline);
    } else {
      tain d;
      if (timeout_ms > 86400000) timeout_ms = 86400000;
      tain_from_millisecs(&d, int(timeout_ms));
      tain_add_g(&deadline, &d);
    }
    int r = iopause_g(x, n, &deadline);
    if (r >= 0 || errno != EINTR) return r;
  }
}

bool OutQueue::flush() {
  while (pos_ < buf_.size()) {
    ssize_t w = ::write(fd_, buf_.data() + pos_, buf_.size() - pos_);
    if (w < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) break;
      return false;
    }
    pos_ += size_t(w);
  }
  if (pos_ == buf_.size()) {
    buf_.clear();
    pos_ = 0;
  } else if (pos_ > (1 << 16) && pos_ * 2 > buf_.size()) {
    buf_.erase(0, pos_);
    pos_ = 0;
  }
  return true;
}

ssize_t read_some(int fd, std::string* buf, size_t max) {
  size_t old = buf->size();
  buf->resize(old + max);
  ssize_t r;
  do r = ::read(fd, buf->data() + old, max);
  while (r < 0 && errno == EINTR);
  buf->resize(old + (r > 0 ? size_t(r) : 0));
  return r;
}

bool set_nonblock(int fd) {
  int f = ::fcntl(fd, F_GETFL);
  return f >= 0 && ::fcntl(fd, F_SETFL, f | O_NONBLOCK) == 0;
}

}  // namespace qf
