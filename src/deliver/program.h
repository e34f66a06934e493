// ISC license.
// Running one "|command" line of a .qmail file: /bin/sh -c command in the home
// directory, in a process group of its own, with the message on fd 0 (from
// offset 0), stdout and stderr captured, and no other descriptor. The command
// is finished when the shell has exited and nothing holds its output open
// any more (as in qmail: a background process that keeps stdout keeps the
// delivery going). At the deadline the whole process group is killed.
#ifndef QF_DELIVER_PROGRAM_H
#define QF_DELIVER_PROGRAM_H

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

namespace qf::deliver {

struct ProgramResult {
  enum How { exited, signaled, timed_out, not_started };
  How how = not_started;
  int status = 0;       ///< exit code (exited) or signal number (signaled)
  int err = 0;          ///< errno when not_started
  std::string output;   ///< stdout and stderr, interleaved, at most max_output bytes
  bool truncated = false;
};

/// Runs command. homefd: the directory to run in; env: the whole environment
/// ("NAME=value"); messfd: a seekable file; timeout_ms: the deadline from now.
/// Needs fds 0, 1 and 2 open in the caller. Blocks until the shell exits or
/// the deadline passes.
ProgramResult run_program(int homefd, std::string const& command,
                          std::vector<std::string> const& env, int messfd, int64_t timeout_ms,
                          size_t max_output);

/// Closes every descriptor from lowest up except those in keep (sorted or not).
void close_fds_from(int lowest, std::vector<int> const& keep = {});

}  // namespace qf::deliver

#endif
