// ISC license.
// The scheduler's control files (qmail-control(5), qmail-send(8) SCHEDULING):
// qmail's concurrencylocal, concurrencyremote and queuelifetime, Postfix's
// queue-manager parameters under their own names (default_X for both
// channels, local_X and remote_X for one), and destinationlimits.
#ifndef QF_SEND_SETTINGS_H
#define QF_SEND_SETTINGS_H

#include <ctime>
#include <string>
#include <string_view>

#include "send/core.h"

namespace qf::send {

/// A time as Postfix writes it: a number with an optional unit s, m, h, d or
/// w (unit when there is none). False when s is not one.
bool parse_duration(std::string_view s, char unit, time_t* out);

/// One line of destinationlimits: "destination:concurrency[:recipients]".
bool parse_dest_override(std::string_view line, DestOverride* out);

/// Reads every control file of the scheduler into *s (starting from
/// Settings::defaults()). False with *bad naming the file when one cannot be
/// read or holds a bad value; *s is then unchanged.
bool load_settings(Settings* s, std::string* bad);

}  // namespace qf::send

#endif
