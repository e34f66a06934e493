// ISC license.
// sendmail -bv (Postfix's address verification, without a delivery): what
// qfleet would do with each address, from the same rules todo-proc,
// qmail-lspawn and qmail-remote apply. Pure: the rules are passed in.
#ifndef QF_INJECT_VERIFY_H
#define QF_INJECT_VERIFY_H

#include <string>
#include <string_view>
#include <vector>

#include "addr/rewrite.h"
#include "addr/routes.h"
#include "deliver/usermap.h"

namespace qf::inject {

struct VerifyRules {
  addr::Rewriter const* rewriter = nullptr;  ///< locals, virtualdomains, percenthack, envnoathost
  addr::Routes const* routes = nullptr;      ///< smtproutes
  deliver::Assignments const* assign = nullptr;  ///< users/assign; nullptr when unreadable
};

/// One line of the report: "<addr>: " what would happen (no lookup is made:
/// no DNS query, no password database, no .qmail file read).
std::string verify_line(std::string_view rcpt, VerifyRules const& r);

/// The report message (header and body) for the given lines, as Postfix's
/// "Mail Delivery Status Report" says it.
std::string verify_report(std::string_view me, std::vector<std::string> const& lines);

}  // namespace qf::inject

#endif
