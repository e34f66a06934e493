// ISC license.
// Reading the message being delivered. The message is a seekable file shared
// by every step of a delivery (and by programs, which get it as fd 0), so the
// reader uses pread from its own offset and never depends on the fd's offset.
#ifndef QF_DELIVER_MESSAGE_H
#define QF_DELIVER_MESSAGE_H

#include <sys/types.h>

#include <string>

namespace qf::deliver {

class MessageReader {
 public:
  explicit MessageReader(int fd) : fd_(fd) {}

  /// Reads one line, its '\n' included, into *line (cleared first), keeping
  /// at most max bytes of it (the rest is skipped; *cut says so). Returns 1
  /// with a line, 0 at end of file (*line holds a last line without '\n',
  /// possibly empty), -1 on a read error (errno set).
  int getline(std::string* line, size_t max, bool* cut);

  /// Reads up to len bytes; 0 at end of file, -1 on error.
  ssize_t read(char* buf, size_t len);

 private:
  bool fill();
  int fd_;
  off_t off_ = 0;
  char buf_[1 << 16];
  size_t pos_ = 0, len_ = 0;
  bool eof_ = false;
};

/// Copies the whole message (from offset 0) to outfd. False with errno set;
/// *read_failed tells whether reading (not writing) failed.
bool copy_message(int messfd, int outfd, bool* read_failed);

/// True when fd is a seekable file (lseek works).
bool seekable(int fd);

}  // namespace qf::deliver

#endif
