// ISC license.
#include "deliver/mbox.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "deliver/message.h"
#include "sys/fd.h"
#include "sys/fs.h"

namespace qf::deliver {

namespace {
constexpr std::string_view kFrom = "From ";
}  // namespace

void MboxQuoter::flush_pending(std::string* out) {
  out->append(quotes_, '>');
  out->append(kFrom.substr(0, matched_));
  quotes_ = 0;
  matched_ = 0;
}

void MboxQuoter::feed(std::string_view data, std::string* out) {
  size_t i = 0;
  while (i < data.size()) {
    char c = data[i];
    switch (st_) {
      case St::mid: {
        size_t nl = data.find('\n', i);
        size_t end = nl == std::string_view::npos ? data.size() : nl + 1;
        out->append(data.substr(i, end - i));
        i = end;
        if (nl != std::string_view::npos) st_ = St::line_start;
        continue;
      }
      case St::line_start:
      case St::quotes:
        if (c == '>') {
          quotes_++;
          st_ = St::quotes;
          i++;
          continue;
        }
        if (c == 'F') {
          matched_ = 1;
          st_ = St::from;
          i++;
          continue;
        }
        break;
      case St::from:
        if (c == kFrom[matched_]) {
          i++;
          if (++matched_ == kFrom.size()) {
            out->push_back('>');
            flush_pending(out);
            st_ = St::mid;
          }
          continue;
        }
        break;
    }
    // Not a From_ line after all: give back what was held, then c.
    flush_pending(out);
    out->push_back(c);
    i++;
    st_ = c == '\n' ? St::line_start : St::mid;
  }
}

void MboxQuoter::end(std::string* out) {
  bool complete = st_ == St::line_start;
  flush_pending(out);
  if (!complete) out->push_back('\n');
  out->push_back('\n');
  st_ = St::line_start;
}

std::string mbox_body(std::string_view message) {
  std::string out;
  MboxQuoter q;
  q.feed(message, &out);
  q.end(&out);
  return out;
}

namespace {

enum class Lock { held, unsupported, timeout };

void nap() {
  struct timespec ts = {0, 100 * 1000 * 1000};
  ::nanosleep(&ts, nullptr);
}

// Takes both locks without blocking forever: mail readers use one or the
// other. A file system that supports neither still gets the delivery.
Lock lock_both(int fd, time_t deadline) {
  bool held = false;
  for (;;) {
    struct flock fl = {};
    fl.l_type = F_WRLCK;
    fl.l_whence = SEEK_SET;
    if (::fcntl(fd, F_SETLK, &fl) == 0) {
      held = true;
      break;
    }
    if (errno != EAGAIN && errno != EACCES && errno != EINTR) break;
    if (::time(nullptr) >= deadline) return Lock::timeout;
    nap();
  }
  for (;;) {
    if (::flock(fd, LOCK_EX | LOCK_NB) == 0) {
      held = true;
      break;
    }
    if (errno != EWOULDBLOCK && errno != EINTR) break;
    if (::time(nullptr) >= deadline) return Lock::timeout;
    nap();
  }
  return held ? Lock::held : Lock::unsupported;
}

Outcome refuse(std::string const& path, std::string const& why) {
  return Outcome::temp("Refusing to deliver to mbox " + path + ": " + why + ". (#4.7.0)");
}

}  // namespace

Outcome deliver_mbox(int dirfd, std::string const& path, std::string_view prefix, int messfd) {
  Fd fd(::openat(dirfd, path.c_str(),
                 O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0600));
  if (!fd.ok()) {
    if (errno == ELOOP) return refuse(path, "it is a symbolic link");
    if (errno == ENXIO) return refuse(path, "it is not a regular file");  // a fifo, no reader
    return Outcome::temp("Unable to open " + path + ": " + error_text(errno) + ". (#4.2.1)");
  }
  struct stat st, lst;
  if (::fstat(fd.get(), &st) < 0)
    return Outcome::temp("Unable to stat " + path + ": " + error_text(errno) + ". (#4.3.0)");
  if (!S_ISREG(st.st_mode)) return refuse(path, "it is not a regular file");
  if (st.st_nlink != 1) return refuse(path, "it has " + fmt_u64(st.st_nlink) + " hard links");
  if (::fstatat(dirfd, path.c_str(), &lst, AT_SYMLINK_NOFOLLOW) < 0 || lst.st_dev != st.st_dev ||
      lst.st_ino != st.st_ino)
    return refuse(path, "it changed while being opened");
  int fl = ::fcntl(fd.get(), F_GETFL);
  if (fl < 0 || ::fcntl(fd.get(), F_SETFL, fl & ~O_NONBLOCK) < 0)
    return Outcome::temp("Unable to set up " + path + ": " + error_text(errno) + ". (#4.3.0)");

  Lock lock = lock_both(fd.get(), ::time(nullptr) + kMboxLockSeconds);
  if (lock == Lock::timeout)
    return Outcome::temp("File has been locked for " + fmt_u64(kMboxLockSeconds) +
                         " seconds straight. (#4.3.0)");
  off_t start = ::lseek(fd.get(), 0, SEEK_END);
  if (start < 0)
    return Outcome::temp("Unable to seek " + path + ": " + error_text(errno) + ". (#4.3.0)");

  // Undo a partial append; without a lock someone else may have written after
  // us, so only a locked file is cut back.
  auto write_error = [&](int err) {
    if (lock == Lock::held) {
      int r = ::ftruncate(fd.get(), start);
      (void)r;
    }
    return Outcome::temp("Unable to write " + path + ": " + error_text(err) +
                         (is_full(err) ? ". (#4.2.2)" : ". (#4.3.0)"));
  };

  std::string out(prefix);
  MboxQuoter quoter;
  MessageReader reader(messfd);
  char buf[1 << 16];
  for (;;) {
    ssize_t n = reader.read(buf, sizeof buf);
    if (n < 0) {
      int e = errno;
      write_error(e);
      return Outcome::temp("Unable to read message: " + error_text(e) + ". (#4.3.0)");
    }
    if (n == 0) break;
    quoter.feed(std::string_view(buf, size_t(n)), &out);
    if (out.size() >= (1 << 16)) {
      if (!write_all(fd.get(), out)) return write_error(errno);
      out.clear();
    }
  }
  quoter.end(&out);
  if (!write_all(fd.get(), out)) return write_error(errno);
  if (::fsync(fd.get()) < 0) return write_error(errno);
  return Outcome::success();
}

}  // namespace qf::deliver
