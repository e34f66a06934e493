// ISC license.
#include "deliver/outcome.h"

#include <errno.h>

#include <cstring>

namespace qf::deliver {

std::string error_text(int err) { return std::strerror(err); }

bool is_full(int err) { return err == ENOSPC || err == EDQUOT || err == EFBIG; }

}  // namespace qf::deliver
