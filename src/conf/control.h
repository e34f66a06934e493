// ISC license.
// The one control-file reader (qmail-control(5)). Files live in control_dir();
// a missing file means "use the default"; any other error is reported as
// false with errno set, so the caller can defer instead of guessing.
#ifndef QF_CONF_CONTROL_H
#define QF_CONF_CONTROL_H

#include <sys/types.h>
#include <time.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace qf::conf {

/// First line of control/name with blanks and tabs trimmed; def when the file
/// is missing or its first line is empty.
bool control_line(std::string_view name, std::string* out, std::string_view def);

/// First line as a decimal number; def when missing; false + EINVAL if not a number.
bool control_uint(std::string_view name, uint64_t* out, uint64_t def);

/// Every non-empty line not starting with '#', trimmed; empty when missing.
bool control_list(std::string_view name, std::vector<std::string>* out);

/// True when control/name exists (any type).
bool control_exists(std::string_view name);

/// Full path of control/name.
std::string control_path(std::string_view name);

/// What stat said of some control files, to tell whether any changed since
/// they were read (a daemon that keeps its controls between uses): for each,
/// whether it exists, and its device, inode, size, mtime and ctime.
class ControlStamps {
 public:
  /// Stats control/name for each of the n names, following symbolic links.
  /// False when one cannot be stat'ed for another reason than its absence:
  /// then the stamps match nothing.
  bool take(char const* const* names, size_t n);
  bool operator==(ControlStamps const& o) const;
  bool operator!=(ControlStamps const& o) const { return !(*this == o); }

 private:
  struct Stamp {
    bool present = false;
    dev_t dev = 0;
    ino_t ino = 0;
    off_t size = 0;
    struct timespec mtime = {0, 0}, ctime = {0, 0};
  };
  bool valid_ = false;
  std::vector<Stamp> v_;
};

/// Trims blanks, tabs and a trailing CR from both ends of s.
std::string_view trim(std::string_view s);

}  // namespace qf::conf

#endif
