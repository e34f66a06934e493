// ISC license.
// Header fields by name (qmail-header(5)): which fields qmail-inject knows,
// and what counts as the start of a field. Pure.
#ifndef QF_INJECT_HFIELD_H
#define QF_INJECT_HFIELD_H

#include <string_view>

namespace qf::inject {

/// The fields qmail-inject treats specially; everything else is other.
enum class Field {
  other,
  sender, from, reply_to, to, cc, bcc, date, message_id,
  resent_sender, resent_from, resent_reply_to, resent_to, resent_cc, resent_bcc,
  resent_date, resent_message_id,
  return_receipt_to, errors_to, apparently_to, return_path, content_length,
  mail_followup_to,
  count_  ///< not a field: the number of kinds
};

/// The kind of a field from its name: ASCII case does not matter, blanks
/// may stand between the name and the ':'.
Field field_kind(std::string_view field);

/// True when line starts a header field: a name of printable, non-blank
/// bytes, optional blanks, then ':'.
bool starts_field(std::string_view line);

/// The name as written (without the blanks before ':'); empty if no ':'.
std::string_view field_name(std::string_view field);

/// Everything after the first ':' (folded lines and final newline included).
std::string_view field_value(std::string_view field);

}  // namespace qf::inject

#endif
