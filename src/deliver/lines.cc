// ISC license.
#include "deliver/lines.h"

#include <cstdio>

namespace qf::deliver {

namespace {

// Characters that may stand unquoted in a local part (RFC 822 atom text).
bool atom_char(unsigned char c) {
  if (c >= 'a' && c <= 'z') return true;
  if (c >= 'A' && c <= 'Z') return true;
  if (c >= '0' && c <= '9') return true;
  switch (c) {
    case '!': case '#': case '$': case '%': case '&': case '\'': case '*': case '+':
    case '-': case '/': case '=': case '?': case '^': case '_': case '`': case '{':
    case '|': case '}': case '~':
      return true;
  }
  return false;
}

bool needs_quotes(std::string_view box) {
  if (box.empty() || box.front() == '.' || box.back() == '.') return true;
  char prev = 0;
  for (char ch : box) {
    if (ch == '.') {
      if (prev == '.') return true;
    } else if (!atom_char((unsigned char)ch)) {
      return true;
    }
    prev = ch;
  }
  return false;
}

void newlines_to(std::string* s, char with) {
  for (char& c : *s)
    if (c == '\n') c = with;
}

}  // namespace

std::string quote_address(std::string_view addr) {
  if (addr.empty()) return std::string();
  size_t at = addr.rfind('@');
  std::string_view box = at == std::string_view::npos ? addr : addr.substr(0, at);
  std::string r;
  if (needs_quotes(box)) {
    r.reserve(box.size() * 2 + 2);
    r.push_back('"');
    for (char ch : box) {
      if (ch == '\r' || ch == '\n' || ch == '"' || ch == '\\') r.push_back('\\');
      r.push_back(ch);
    }
    r.push_back('"');
  } else {
    r.assign(box);
  }
  if (at != std::string_view::npos) r.append(addr.substr(at));
  return r;
}

std::string return_path_line(std::string_view sender) {
  std::string r = "Return-Path: <" + quote_address(sender);
  newlines_to(&r, '_');
  r += ">\n";
  return r;
}

std::string delivered_to_line(std::string_view local, std::string_view host) {
  // As qmail: the address as given (no case folding); the loop check ignores case.
  std::string r = "Delivered-To: ";
  r += local;
  r += '@';
  r += host;
  newlines_to(&r, '_');
  r += '\n';
  return r;
}

bool is_our_delivered_to(std::string_view line, std::string_view dtline) {
  if (!dtline.empty() && dtline.back() == '\n') dtline.remove_suffix(1);
  if (!line.empty() && line.back() == '\n') line.remove_suffix(1);
  if (line.size() != dtline.size()) return false;
  for (size_t i = 0; i < line.size(); i++) {
    char a = line[i], b = dtline[i];
    if (a >= 'A' && a <= 'Z') a = char(a - 'A' + 'a');
    if (b >= 'A' && b <= 'Z') b = char(b - 'A' + 'a');
    if (a != b) return false;
  }
  return true;
}

std::string mbox_date(time_t t) {
  static char const* const days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static char const* const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                       "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  struct tm tm;
  gmtime_r(&t, &tm);
  char buf[64];
  int n = std::snprintf(buf, sizeof buf, "%s %s %02d %02d:%02d:%02d %d", days[tm.tm_wday],
                        months[tm.tm_mon], tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                        tm.tm_year + 1900);
  return std::string(buf, size_t(n));
}

std::string from_line(std::string_view sender, time_t now) {
  std::string r = "From ";
  if (sender.empty()) {
    r += "MAILER-DAEMON";
  } else {
    for (char ch : sender) r.push_back(ch == ' ' || ch == '\t' || ch == '\n' ? '-' : ch);
  }
  r += ' ';
  r += mbox_date(now);
  r += '\n';
  return r;
}

bool needs_from_quote(std::string_view line) {
  size_t i = 0;
  while (i < line.size() && line[i] == '>') i++;
  return line.substr(i).starts_with("From ");
}

}  // namespace qf::deliver
