// ISC license.
// The text qmail-local adds to a message and gives to programs: Return-Path,
// Delivered-To, the mbox From_ line, and the quoting rules behind them. Pure
// functions: no I/O, no failure.
#ifndef QF_DELIVER_LINES_H
#define QF_DELIVER_LINES_H

#include <ctime>
#include <string>
#include <string_view>

namespace qf::deliver {

/// The address as an RFC 821/822 mailbox: its local part (before the last
/// '@') in double quotes, with \r \n " and \\ escaped, when it is empty or
/// holds anything but atom characters and single inner dots (qmail's quote2).
/// The empty address stays empty.
std::string quote_address(std::string_view addr);

/// "Return-Path: <quoted sender>\n"; a newline in the sender becomes '_'.
std::string return_path_line(std::string_view sender);

/// "Delivered-To: local@host\n" as given (qmail folds no case), a newline inside becoming '_'.
std::string delivered_to_line(std::string_view local, std::string_view host);

/// True when header line (without its newline) is our Delivered-To line
/// (dtline, with its newline), compared without regard to ASCII case.
bool is_our_delivered_to(std::string_view line, std::string_view dtline);

/// The mbox separator "From SENDER DATE\n": blanks, tabs and newlines in the
/// sender become '-', the empty sender is MAILER-DAEMON, DATE is mbox_date(now).
std::string from_line(std::string_view sender, time_t now);

/// asctime-style date in UTC: "Thu Nov 23 04:23:06 2026".
std::string mbox_date(time_t t);

/// True when a message line must get a '>' in an mbox: it starts with any
/// number of '>' followed by "From " (mboxrd, as qmail's gfrom).
bool needs_from_quote(std::string_view line);

}  // namespace qf::deliver

#endif
