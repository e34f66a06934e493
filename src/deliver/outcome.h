// ISC license.
// The verdict of one delivery step: qmail-local's exit code (0 delivered,
// 100 permanent failure, 111 temporary failure) and its human text, which
// ends with an enhanced status code such as "(#4.3.0)".
#ifndef QF_DELIVER_OUTCOME_H
#define QF_DELIVER_OUTCOME_H

#include <string>

#include "sys/exitcodes.h"

namespace qf::deliver {

struct Outcome {
  int code = ex::ok;
  std::string text;

  bool ok() const { return code == ex::ok; }
  static Outcome success() { return {}; }
  static Outcome temp(std::string t) { return {ex::temp, std::move(t)}; }
  static Outcome perm(std::string t) { return {ex::perm, std::move(t)}; }
};

/// strerror(err), for reports.
std::string error_text(int err);

/// True for errors that say the disk or the quota is full (ENOSPC, EDQUOT, EFBIG).
bool is_full(int err);

}  // namespace qf::deliver

#endif
