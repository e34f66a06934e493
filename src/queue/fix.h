// ISC license.
// queue-fix's logic: create a queue, or bring a damaged one back to the layout
// of layout.h (directories, split subdirectories, owners, modes, lock files),
// moving message files whose split changed; report what it cannot decide
// (stray files, message ids that are not their inode, orphans).
#ifndef QF_QUEUE_FIX_H
#define QF_QUEUE_FIX_H

#include <sys/types.h>

#include <functional>
#include <string>

#include "queue/layout.h"

namespace qf::queue {

/// The uid of every conf-users role and the qmail group.
struct Owners {
  uid_t uid[8] = {};
  gid_t gid = 0;
  uid_t of(conf::User u) const { return uid[int(u)]; }
};

/// Real accounts when running as root; otherwise the caller for every role (the
/// embedded default). False with a message in *err when an account is missing.
bool resolve_owners(Owners* out, std::string* err);

struct FixOptions {
  bool dry_run = false;  ///< report what would change, change nothing
  Owners owners;
};

struct FixResult {
  unsigned changes = 0;   ///< repairs made (or that would be made with dry_run)
  unsigned problems = 0;  ///< findings left to a human
  bool failed = false;    ///< a system call failed; the queue may be incomplete
};

/// Lines queue-fix prints: change(text) for repairs, problem(text) for findings,
/// error(text) for failed system calls (text already carries strerror).
struct FixReport {
  std::function<void(std::string const&)> change;
  std::function<void(std::string const&)> problem;
  std::function<void(std::string const&)> error;
};

/// Creates or repairs the queue q.
FixResult fix_queue(Layout const& q, FixOptions const& o, FixReport const& r);

}  // namespace qf::queue

#endif
