// ISC license.
// Dead-host memory, lock/tcpto (qmail-tcpto(8)): hosts whose connections time
// out repeatedly are skipped for about an hour. qmail's semantics, a format
// that also holds IPv6:
//
//   the file is an array of 32-byte records (queue-fix makes 2048 zero bytes:
//   64 records; any multiple of 32 up to 64 KiB is read);
//   bytes 0-15   the address, IPv6, or IPv4-mapped IPv6 (::ffff:a.b.c.d)
//   byte  16     recent timeouts, 0 (free record) to 10
//   bytes 17-23  zero
//   bytes 24-31  time of the last recorded timeout, seconds, little-endian
//
// A host is skipped when it has 2 or more recent timeouts and the last one is
// less than (60 + pid%32) * 64 seconds old. A timeout within 2 minutes of the
// previous one is not counted again; a successful connection resets the count;
// a new host takes a free record or else the oldest (time + count * 1024).
// Every access holds flock(2) on the file: shared to read, exclusive to write.
#ifndef QF_REMOTE_TCPTO_H
#define QF_REMOTE_TCPTO_H

#include <cstdint>
#include <ctime>
#include <string>
#include <string_view>
#include <vector>

namespace qf::remote::tcpto {

inline constexpr size_t kRecord = 32;
inline constexpr size_t kMaxFile = 65536;
inline constexpr unsigned kMaxCount = 10;

struct Record {
  std::string ip;  ///< text form (IPv4 dotted for mapped addresses)
  unsigned count = 0;
  int64_t when = 0;
};

/// The used records of a file image.
std::vector<Record> parse(std::string_view image);
/// Whether ip is to be skipped now. jitter is 0..31 (qmail: pid & 31).
bool dead(std::string_view image, std::string const& ip, int64_t now, unsigned jitter);
/// Applies one connection outcome to the image: timed_out true records a
/// timeout, false clears the host. Returns the index of the changed record or
/// -1 when nothing changed.
long update(std::string* image, std::string const& ip, bool timed_out, int64_t now);

/// The file itself. Every call opens, locks, and closes it; a missing or
/// unreadable file means "nobody is dead" and updates are dropped.
class File {
 public:
  explicit File(std::string path) : path_(std::move(path)) {}
  bool dead(std::string const& ip, int64_t now) const;
  void note(std::string const& ip, bool timed_out, int64_t now) const;
  /// Reads every record; false with errno on failure.
  bool list(std::vector<Record>* out) const;
  /// Zeroes the file (qmail-tcpok); false with errno on failure.
  bool clear() const;

 private:
  std::string path_;
};

}  // namespace qf::remote::tcpto

#endif
