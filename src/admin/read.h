// ISC license.
// Reading a queue for the admin tools (qmail-qread, qmail-qstat, qmail-qshape,
// qmonitor -p). Read-only: nothing here writes, locks or renames a queue file,
// so it may run beside qmail-send; a message that moves while it is read is
// shown as it was found or not at all.
//
// Cost: one getdents pass over every directory, then per message what its
// state needs: mess/N one fstatat (size, arrival); info/N or todo/N one
// open+read; each channel file one open+fstat+read (its mtime is the next
// retry); defer/N one open+read when it exists. No stat of a file that the
// directory listings say is absent.
#ifndef QF_ADMIN_READ_H
#define QF_ADMIN_READ_H

#include <cstdint>
#include <ctime>
#include <string>
#include <string_view>
#include <vector>

#include "queue/layout.h"

namespace qf::admin {

/// A pending recipient and the last status qmail-send wrote for it (defer/N).
struct Rcpt {
  char channel = 'R';  ///< 'L' local, 'R' remote
  std::string addr;
  uint64_t status_when = 0;  ///< 0: no attempt recorded
  std::string status;
};

/// Postfix's queue names for where a message is (qmail-qshape(8)).
enum class State { incoming, active, deferred, hold, corrupt };
char const* state_name(State s);
/// Parses one of the names; false otherwise.
bool parse_state(std::string_view name, State* out);

struct Message {
  unsigned queue = 0;  ///< N of queueN, 0 for a single queue
  uint64_t id = 0;
  time_t birth = 0;     ///< mess/N's mtime (arrival); 0 unknown
  uint64_t size = 0;    ///< mess/N's size
  bool size_known = false;
  bool sender_known = false;
  std::string sender;
  bool todo = false;      ///< in todo/: committed, not yet pre-processed
  bool held = false;      ///< hold/N exists
  bool bouncing = false;  ///< bounce/N exists: failures wait to be returned
  bool corrupt = false;   ///< files in corrupt/
  std::string corrupt_files;  ///< "info remote ..." for a corrupt message
  time_t next_retry = 0;  ///< latest mtime of its channel files (0: none)
  std::vector<Rcpt> rcpts;  ///< pending recipients, local first, in file order

  /// corrupt > hold > incoming > deferred (a retry time after now) > active.
  State state(time_t now) const;
};

struct Scan {
  std::vector<Message> messages;  ///< by queue, then arrival, then id
  std::vector<std::string> errors;  ///< "unable to read DIR: reason", one per failure
};

/// Reads every message of queue dir (number n) into *out. recipients false:
/// skip the channel and defer files (faster; rcpts stay empty, next_retry 0).
/// threads: how many threads read the split subdirectories (the system calls
/// per message are the cost; two cores halve it).
void read_queue(queue::Layout const& q, unsigned n, bool recipients, Scan* out, unsigned threads = 2);

/// Message and not-yet-pre-processed counts (qmail-qstat): files in mess/
/// and in todo/. Directory listings only.
struct Counts {
  uint64_t messages = 0, todo = 0;
  bool ok = true;
};
Counts count_queue(queue::Layout const& q);

}  // namespace qf::admin

#endif
