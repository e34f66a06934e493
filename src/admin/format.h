// ISC license.
// What the admin tools print, from what admin/read.h found. Pure: every
// function takes the time it compares against.
#ifndef QF_ADMIN_FORMAT_H
#define QF_ADMIN_FORMAT_H

#include <cstdint>
#include <ctime>
#include <string>
#include <string_view>
#include <vector>

#include "admin/read.h"

namespace qf::admin {

/// "45s", "12m", "3h05m", "2d04h": a duration for people.
std::string fmt_age(int64_t seconds);

/// qmail-qread's report of one message (qmail-qread(8), OUTPUT):
///   DATE GMT  #ID  SIZE  <SENDER>  [queueN]  age AGE[  flags]
///   \tCHANNEL\tRECIPIENT
///   \t\tlast attempt AGE ago: TEXT
void qread_message(Message const& m, time_t now, std::string* out);

/// qmail-qread -m: one line per pending recipient (one line with channel and
/// recipient "-" for a message without any), tab-separated:
///   queue id state arrival size sender channel recipient status-time status
/// Tabs, newlines and backslashes inside fields are written \t \n \\; absent
/// values are "-" (an empty sender is an empty field).
void qread_lines(Message const& m, time_t now, std::string* out);
/// A field for qread_lines: \ -> \\, TAB -> \t, LF -> \n, other control bytes -> \xHH.
std::string escape_field(std::string_view s);

/// qshape's table. Columns: T, then buckets of age in minutes: the first is
/// width minutes wide, each next one twice as old as the one before, the last
/// open-ended ("1280+" with the defaults 5 and 10).
struct ShapeOptions {
  bool by_sender = false;
  unsigned width = 5;     ///< minutes
  unsigned buckets = 10;  ///< columns after T, the open-ended one included
  unsigned top = 0;       ///< rows after TOTAL (0: every one)
  std::vector<State> states = {State::incoming, State::active};
};
struct ShapeRow {
  std::string name;
  uint64_t total = 0;
  std::vector<uint64_t> counts;
};
struct Shape {
  std::vector<std::string> header;  ///< "T", "5", ..., "1280+"
  ShapeRow total;                   ///< messages counted once each
  std::vector<ShapeRow> rows;       ///< by count, largest first, then name
};
/// Counts, for each domain (of a pending recipient, or of the sender with
/// by_sender), the messages in one of the states, each message once per domain.
Shape shape(std::vector<Message> const& msgs, ShapeOptions const& o, time_t now);
std::string shape_text(Shape const& s, unsigned top);
/// The domain of an address, lower-cased: after the last '@'; "" for none.
/// The empty sender is "MAILER-DAEMON" (Postfix's qshape).
std::string shape_domain(std::string_view addr, bool sender);

}  // namespace qf::admin

#endif
