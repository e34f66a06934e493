// ISC license.
#include "inject/hfield.h"

namespace qf::inject {

namespace {

struct Name {
  std::string_view name;
  Field kind;
};

constexpr Name kNames[] = {
    {"sender", Field::sender},
    {"from", Field::from},
    {"reply-to", Field::reply_to},
    {"to", Field::to},
    {"cc", Field::cc},
    {"bcc", Field::bcc},
    {"date", Field::date},
    {"message-id", Field::message_id},
    {"resent-sender", Field::resent_sender},
    {"resent-from", Field::resent_from},
    {"resent-reply-to", Field::resent_reply_to},
    {"resent-to", Field::resent_to},
    {"resent-cc", Field::resent_cc},
    {"resent-bcc", Field::resent_bcc},
    {"resent-date", Field::resent_date},
    {"resent-message-id", Field::resent_message_id},
    {"return-receipt-to", Field::return_receipt_to},
    {"errors-to", Field::errors_to},
    {"apparently-to", Field::apparently_to},
    {"return-path", Field::return_path},
    {"content-length", Field::content_length},
    {"mail-followup-to", Field::mail_followup_to},
};

char lower(char c) { return c >= 'A' && c <= 'Z' ? char(c + 32) : c; }

bool same_name(std::string_view a, std::string_view lowercase) {
  if (a.size() != lowercase.size()) return false;
  for (size_t i = 0; i < a.size(); i++)
    if (lower(a[i]) != lowercase[i]) return false;
  return true;
}

}  // namespace

std::string_view field_name(std::string_view field) {
  size_t colon = field.find(':');
  if (colon == std::string_view::npos) return {};
  std::string_view name = field.substr(0, colon);
  while (!name.empty() && (name.back() == ' ' || name.back() == '\t')) name.remove_suffix(1);
  return name;
}

std::string_view field_value(std::string_view field) {
  size_t colon = field.find(':');
  return colon == std::string_view::npos ? std::string_view() : field.substr(colon + 1);
}

bool starts_field(std::string_view line) {
  std::string_view name = field_name(line);
  if (name.empty()) return false;
  for (unsigned char c : name)
    if (c <= 32 || c >= 127) return false;
  return true;
}

Field field_kind(std::string_view field) {
  std::string_view name = field_name(field);
  for (Name const& n : kNames)
    if (same_name(name, n.name)) return n.kind;
  return Field::other;
}

}  // namespace qf::inject
