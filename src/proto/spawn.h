// ISC license.
// The protocol between qmail-send and its spawners (qmail-lspawn, qmail-rspawn).
// qfleet's own, because one delivery may carry many recipients of the same
// message (qmail's carries one). See qmail-lspawn(8).
//
//   start-up, spawner -> send:  slots as 2 bytes, low byte first
//   command, send -> spawner:   slot(2 bytes LE) id NUL sender NUL rcpt NUL ... rcpt NUL NUL
//   report, spawner -> send:    slot(2 bytes LE) verdict, then, per recipient
//                               of that command, in order: status text NUL
//
// status: K delivered, Z temporary failure, D permanent failure. verdict says
// what the attempt tells of its destination, for qmail-send's concurrency
// window (Postfix's site failure): + it answered (whatever it said of each
// recipient), S it failed as a whole (no connection, no greeting, a 421, a
// timeout: every recipient got Z), ? nothing (the spawner's own trouble), C the
// delivery process crashed (killed by a signal: every recipient got Z; qmail-send
// counts these per message to hold poison mail). The message
// is mess/<id> of the spawner's own queue; the spawner builds the path itself.
#ifndef QF_PROTO_SPAWN_H
#define QF_PROTO_SPAWN_H

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace qf::spawn {

inline constexpr size_t kMaxSlots = 65535;
inline constexpr size_t kMaxAddress = 4096;     ///< sender or recipient, after rewriting
inline constexpr size_t kMaxRecipients = 10000;  ///< per command
inline constexpr size_t kMaxReport = 10000;     ///< report text kept per recipient

struct Command {
  unsigned slot = 0;
  uint64_t id = 0;
  std::string sender;
  std::vector<std::string> rcpts;
};

/// What one delivery attempt tells of its destination.
enum class Verdict : char { ok = '+', site = 'S', none = '?', crash = 'C' };

struct Result {
  char status = 'Z';  ///< K, Z or D
  std::string text;
};

/// Appends the wire form of c.
void encode(Command const& c, std::string* out);
/// Appends the wire form of a report for slot.
void encode_report(unsigned slot, Verdict v, std::vector<Result> const& results, std::string* out);
/// The 2-byte slot count a spawner writes first.
std::string encode_slots(unsigned slots);

/// Incremental decoder of commands (spawner side). Rejects malformed input:
/// a bad id, an over-long address, too many recipients, none at all.
class CommandReader {
 public:
  enum class Status { more, command, bad };
  /// Consumes bytes; returns command when one is complete (take it with take()).
  Status feed(char const* data, size_t n, size_t* used);
  Command take() { return std::move(cur_); }

 private:
  enum class St { slot0, slot1, id, sender, rcpt } st_ = St::slot0;
  Command cur_;
  std::string field_;
};

/// Incremental decoder of reports (qmail-send side). expected(slot) returns how
/// many recipients the outstanding command of slot has (0: no such command).
class ReportReader {
 public:
  using Expected = std::function<size_t(unsigned slot)>;
  enum class Status { more, report, bad };
  explicit ReportReader(Expected e) : expected_(std::move(e)) {}
  Status feed(char const* data, size_t n, size_t* used);
  unsigned slot() const { return slot_; }
  Verdict verdict() const { return verdict_; }
  std::vector<Result> take() { return std::move(results_); }

 private:
  Expected expected_;
  int st_ = 0;  // 0, 1: slot bytes; 4: verdict; 2: status byte; 3: text
  Verdict verdict_ = Verdict::none;
  unsigned slot_ = 0;
  size_t want_ = 0;
  std::vector<Result> results_;
  Result cur_;
};

}  // namespace qf::spawn

#endif
