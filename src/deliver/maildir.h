// ISC license.
// Delivery into a Maildir (maildir(5)): write tmp/NAME exclusively, fsync it,
// link it to new/NAME, remove tmp/NAME, fsync new/. Every failure is
// temporary and leaves no file behind in tmp/.
#ifndef QF_DELIVER_MAILDIR_H
#define QF_DELIVER_MAILDIR_H

#include <ctime>
#include <string>
#include <string_view>

#include "deliver/outcome.h"

namespace qf::deliver {

/// A unique file name "SECONDS.M<usec>P<pid>Q<n>.<host>", n counting the names
/// this process made; '/' and ':' in the host become "\057" and "\072".
std::string maildir_name(struct timespec const& now, pid_t pid, unsigned long n,
                         std::string_view host);

/// Delivers prefix (Return-Path and Delivered-To lines) and the message read
/// from messfd (from offset 0) into the Maildir dir, a path relative to dirfd
/// (or absolute). On success *file gets the name in new/.
Outcome deliver_maildir(int dirfd, std::string const& dir, std::string_view prefix, int messfd,
                        std::string* file = nullptr);

}  // namespace qf::deliver

#endif
