// ISC license.
// defer/N: qmail-send's per-recipient status log (Postfix's defer/ and
// trace/ logs, reduced to what qmail-qread shows). qmail-send appends one
// record per deferred recipient after each delivery attempt that deferred it;
// a reader takes the last record of each (channel, recipient). Nothing is
// written for a successful delivery: a recipient that is no longer pending in
// local/N or remote/N is simply not shown.
//
//   record = channel ('L' or 'R') decimal-time ' ' address NUL text NUL
//
// The text is the delivery's report with NULs turned into '/'. The file is
// advisory: it is not fsynced, a torn last record is ignored, and qmail-send
// starts it afresh once it passes kStatusFileMax.
#ifndef QF_QUEUE_STATUS_H
#define QF_QUEUE_STATUS_H

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace qf::queue {

/// Past this size qmail-send truncates defer/N before it appends.
inline constexpr uint64_t kStatusFileMax = 64 * 1024;

struct RcptStatus {
  char channel = 'R';  ///< 'L' local, 'R' remote
  uint64_t when = 0;   ///< Unix time of the attempt
  std::string addr;
  std::string text;
};

/// Appends one record to *out.
void put_status(std::string* out, char channel, uint64_t when, std::string_view addr,
                std::string_view text);

/// The last record of every (channel, address) in data, in the order of their
/// first appearance. Returns false when data holds a damaged or torn record
/// (the records before it are in *out).
bool parse_status(std::string_view data, std::vector<RcptStatus>* out);

/// text on one line for people: CR, LF and other control bytes become one
/// '/' per run between printable text; trailing ones and spaces are dropped.
std::string one_line(std::string_view text);

}  // namespace qf::queue

#endif
