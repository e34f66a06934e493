// ISC license.
// Date formats the mail programs write, and the monotonic clock for timeouts.
#ifndef QF_SYS_TIMEFMT_H
#define QF_SYS_TIMEFMT_H

#include <cstdint>
#include <ctime>
#include <string>

namespace qf {

/// RFC 822 date in UTC as qmail writes it: "23 Nov 2026 14:23:06 -0000".
std::string date822(time_t t);

/// Milliseconds on CLOCK_MONOTONIC: deadlines that a clock step cannot move.
int64_t monotonic_ms();
/// Milliseconds since the epoch (CLOCK_REALTIME), for deadlines in time_t.
int64_t wallclock_ms();

}  // namespace qf

#endif
