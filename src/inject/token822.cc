// ISC license.
#include "inject/token822.h"

#include <algorithm>

namespace qf::inject {

namespace {

bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

// Bytes that end an atom while tokenizing. ')' and ']' do not (qmail): such an
// atom is rendered quoted.
bool ends_atom(char c) {
  switch (c) {
    case '(': case '[': case '"': case '<': case '>': case ';': case ':':
    case '@': case ',': case '.':
      return true;
    default:
      return is_blank(c);
  }
}

// Bytes that may appear in an atom rendered without quotes. Bytes over 127
// may (RFC 6532 lets UTF-8 stand in atoms).
bool atom_safe(unsigned char c) {
  if (c <= 32 || c == 127) return false;
  switch (c) {
    case '(': case ')': case '<': case '>': case '@': case ',': case ';': case ':':
    case '\\': case '"': case '.': case '[': case ']':
      return false;
    default:
      return true;
  }
}

// Reads a delimited token body after its opening byte at s[*i - 1]. close ends
// it; nested opens (comments only) nest. CR and LF are folding and dropped.
bool delimited(std::string_view s, size_t* i, char open, char close, bool nests,
               std::string* text) {
  int depth = 1;
  for (;;) {
    if (*i >= s.size()) return false;
    char c = s[(*i)++];
    if (c == '\\') {
      if (*i >= s.size()) return false;
      c = s[(*i)++];
      if (c != '\r' && c != '\n') text->push_back(c);
      continue;
    }
    if (c == close && --depth == 0) return true;
    if (nests && c == open) ++depth;
    if (c == '\r' || c == '\n') continue;
    text->push_back(c);
  }
}

// A CR or LF never reaches a header from here: it would end the field (and a
// name or address from the environment or the command line may hold one).
void escape_into(std::string* out, std::string_view text, std::string_view special) {
  for (char c : text) {
    if (c == '\r' || c == '\n') c = ' ';
    if (c == '\\' || special.find(c) != std::string_view::npos) out->push_back('\\');
    out->push_back(c);
  }
}

// Parentheses in a comment need no escapes when they balance.
bool balanced(std::string_view text) {
  int depth = 0;
  for (char c : text) {
    if (c == '(') ++depth;
    if (c == ')' && --depth < 0) return false;
  }
  return depth == 0;
}

void put_token(std::string* out, Token const& t) {
  switch (t.type) {
    case Token::atom:
      if (!t.text.empty() && std::all_of(t.text.begin(), t.text.end(),
                                         [](char c) { return atom_safe(c); })) {
        out->append(t.text);
        return;
      }
      [[fallthrough]];
    case Token::quoted:
      out->push_back('"');
      escape_into(out, t.text, "\"");
      out->push_back('"');
      return;
    case Token::literal:
      out->push_back('[');
      escape_into(out, t.text, "[]");
      out->push_back(']');
      return;
    case Token::comment:
      out->push_back('(');
      escape_into(out, t.text, balanced(t.text) ? "" : "()");
      out->push_back(')');
      return;
    case Token::dot: out->push_back('.'); return;
    case Token::at: out->push_back('@'); return;
    case Token::comma: out->push_back(','); return;
    case Token::colon: out->push_back(':'); return;
    case Token::semi: out->push_back(';'); return;
    case Token::left: out->push_back('<'); return;
    case Token::right: out->push_back('>'); return;
  }
}

bool wordlike(Token::Type t) {
  return t == Token::atom || t == Token::quoted || t == Token::literal || t == Token::comment;
}

bool need_space(Token::Type prev, Token const& next) {
  if (prev == Token::colon || prev == Token::comma) return true;
  if (next.type == Token::left) return true;
  if (wordlike(next.type) && (wordlike(prev) || prev == Token::right || prev == Token::semi))
    return true;
  auto phrase = [](Token::Type t) { return wordlike(t) || t == Token::dot || t == Token::at; };
  return next.blank_before && phrase(prev) && phrase(next.type);
}

}  // namespace

bool tokenize(std::string_view s, Tokens* out) {
  out->clear();
  size_t i = 0;
  bool blank = false;
  while (i < s.size()) {
    char c = s[i++];
    Token t{Token::atom, {}, blank};
    switch (c) {
      case '.': t.type = Token::dot; break;
      case '@': t.type = Token::at; break;
      case ',': t.type = Token::comma; break;
      case ':': t.type = Token::colon; break;
      case ';': t.type = Token::semi; break;
      case '<': t.type = Token::left; break;
      case '>': t.type = Token::right; break;
      case ')': case ']':
        return false;
      case '(':
        t.type = Token::comment;
        if (!delimited(s, &i, '(', ')', true, &t.text)) return false;
        break;
      case '"':
        t.type = Token::quoted;
        if (!delimited(s, &i, '"', '"', false, &t.text)) return false;
        break;
      case '[':
        t.type = Token::literal;
        if (!delimited(s, &i, '[', ']', false, &t.text)) return false;
        break;
      default:
        if (is_blank(c)) {
          blank = true;
          continue;
        }
        for (--i; i < s.size() && !ends_atom(s[i]); i++) {
          if (s[i] == '\\' && ++i >= s.size()) break;
          if (s[i] != '\r' && s[i] != '\n') t.text.push_back(s[i]);
        }
        if (t.text.empty()) continue;  // a lone trailing backslash
        break;
    }
    out->push_back(std::move(t));
    blank = false;
  }
  return true;
}

std::string render(Tokens const& t, size_t first_col, size_t width) {
  // Items end at commas; a line break may follow any comma.
  std::vector<std::string> items(1);
  bool have_prev = false;
  Token::Type prev = Token::atom;
  for (Token const& tok : t) {
    std::string& item = items.back();
    if (have_prev && prev != Token::comma && need_space(prev, tok)) item.push_back(' ');
    put_token(&item, tok);
    have_prev = true;
    prev = tok.type;
    if (tok.type == Token::comma) items.emplace_back();
  }
  if (items.size() > 1 && items.back().empty()) items.pop_back();
  std::string out;
  size_t col = first_col;
  for (size_t k = 0; k < items.size(); k++) {
    std::string const& item = items[k];
    if (k == 0) {
      out += item;
      col += item.size();
    } else if (col + 1 + item.size() <= width) {
      out += ' ';
      out += item;
      col += 1 + item.size();
    } else {
      out += "\n  ";
      out += item;
      col = 2 + item.size();
    }
  }
  return out;
}

std::string unquote(Tokens const& t) {
  std::string out;
  for (Token const& tok : t) {
    switch (tok.type) {
      case Token::comment: break;
      case Token::atom: case Token::quoted: out += tok.text; break;
      case Token::literal: out += '['; out += tok.text; out += ']'; break;
      default: put_token(&out, tok); break;
    }
  }
  return out;
}

bool dot_atom(std::string_view s) {
  if (s.empty() || s.front() == '.' || s.back() == '.') return false;
  if (s.find("..") != std::string_view::npos) return false;
  return std::all_of(s.begin(), s.end(), [](char c) { return c == '.' || atom_safe(c); });
}

std::string quote_address(std::string_view addr) {
  size_t at = addr.rfind('@');
  std::string_view box = at == std::string_view::npos ? addr : addr.substr(0, at);
  std::string out;
  if (dot_atom(box)) {
    out.append(box);
  } else {
    out.push_back('"');
    escape_into(&out, box, "\"");
    out.push_back('"');
  }
  if (at != std::string_view::npos) out.append(addr.substr(at));
  return out;
}

bool rewrite_address_list(Tokens const& t, Tokens* out,
                          std::function<void(Tokens*)> const& rewrite) {
  // Address lists read most easily from the right: a '>' announces a route
  // address and everything left of its '<' up to a separator is its phrase; a
  // ';' announces a group whose ':' ends it. Both lists grow reversed.
  Tokens rev, addr;
  auto flush = [&] {
    if (addr.empty()) return;
    std::reverse(addr.begin(), addr.end());
    rewrite(&addr);
    rev.insert(rev.end(), addr.rbegin(), addr.rend());
    addr.clear();
  };
  auto flush_comma = [&] {
    if (addr.empty()) return;
    flush();
    rev.push_back(Token{Token::comma, {}});
  };
  bool in_group = false;
  bool word_ok = true;  // false right after a word: another word starts an address
  size_t i = t.size();
  while (i > 0) {
    Token const& tok = t[i - 1];
    switch (tok.type) {
      case Token::semi:
        flush_comma();
        if (in_group) return false;
        in_group = true;
        word_ok = true;
        rev.push_back(t[--i]);
        break;
      case Token::colon:
        flush();
        if (!in_group) return false;
        in_group = false;
        // The group's name runs back to the previous comma, kept as it is.
        while (i > 0 && t[i - 1].type != Token::comma) rev.push_back(t[--i]);
        if (i > 0) rev.push_back(t[--i]);
        word_ok = true;
        break;
      case Token::right: {
        flush_comma();
        rev.push_back(t[--i]);
        while (i > 0 && t[i - 1].type != Token::left) addr.push_back(t[--i]);
        // rewritten even when empty: "<>" is an address
        std::reverse(addr.begin(), addr.end());
        rewrite(&addr);
        rev.insert(rev.end(), addr.rbegin(), addr.rend());
        addr.clear();
        if (i == 0) return false;
        rev.push_back(t[--i]);
        while (i > 0) {
          Token::Type p = t[i - 1].type;
          if (p != Token::comment && p != Token::atom && p != Token::quoted && p != Token::at &&
              p != Token::dot)
            break;
          rev.push_back(t[--i]);
        }
        word_ok = false;
        break;
      }
      case Token::atom: case Token::quoted: case Token::literal:
        if (!word_ok) flush_comma();
        word_ok = false;
        addr.push_back(t[--i]);
        break;
      case Token::comment:  // lexically a blank: leaves word_ok alone
        rev.push_back(t[--i]);
        break;
      case Token::comma:
        flush();
        word_ok = true;
        rev.push_back(t[--i]);
        break;
      default:  // . @ and a stray <
        word_ok = true;
        addr.push_back(t[--i]);
        break;
    }
  }
  flush();
  out->assign(rev.rbegin(), rev.rend());
  return true;
}

}  // namespace qf::inject
