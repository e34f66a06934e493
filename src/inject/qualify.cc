// ISC license.
#include "inject/qualify.h"

#include <algorithm>

namespace qf::inject {

bool host_tokens(std::string_view host, Tokens* out) {
  if (!tokenize(host, out)) return false;
  for (size_t i = 0; i < out->size(); i++) {
    Token const& tok = (*out)[i];
    Token::Type t = tok.type;
    if (t != Token::atom && t != Token::dot && t != Token::literal) return false;
    // "a b" is no host name: labels are joined by dots
    if (i > 0 && t != Token::dot && (*out)[i - 1].type != Token::dot) return false;
    // nor is one that needs a backslash ("x\[" reads as "x["): written into a
    // header (Return-Path: <box@x[>) it would not parse again
    if (t == Token::atom && (tok.text.find('.') != std::string::npos || !dot_atom(tok.text)))
      return false;
    if (t == Token::literal && tok.text.find_first_of("[]\\") != std::string::npos) return false;
  }
  return true;
}

bool Qualifier::init(std::string_view defaulthost, std::string_view defaultdomain,
                     std::string_view plusdomain, std::string* bad) {
  struct {
    std::string_view name, value;
    Tokens* out;
    Token::Type lead;
  } const names[] = {{"defaulthost", defaulthost, &host_, Token::at},
                     {"defaultdomain", defaultdomain, &domain_, Token::dot},
                     {"plusdomain", plusdomain, &plus_, Token::dot}};
  for (auto const& n : names) {
    Tokens t;
    if (!host_tokens(n.value, &t) || t.empty()) {
      *bad = n.name;
      return false;
    }
    n.out->assign(1, Token{n.lead, {}});
    n.out->insert(n.out->end(), t.begin(), t.end());
  }
  return true;
}

void Qualifier::operator()(Tokens* addr) const {
  Tokens comments, a;
  for (Token& t : *addr) {
    t.blank_before = false;  // an address is written without blanks
    (t.type == Token::comment ? comments : a).push_back(std::move(t));
  }
  auto done = [&] {
    a.insert(a.end(), comments.begin(), comments.end());
    *addr = std::move(a);
  };
  auto is = [&](size_t i, Token::Type type) { return i < a.size() && a[i].type == type; };

  if (a.empty()) return done();  // <>
  size_t n = a.size();
  if (n >= 2 && is(n - 1, Token::literal) && a[n - 1].text.empty() && is(n - 2, Token::at))
    return done();  // box@[]: qmail-send's VERP placeholder
  if (is(0, Token::at)) {  // source route: @a,@b:box@host
    auto colon = std::find_if(a.begin(), a.end(),
                              [](Token const& t) { return t.type == Token::colon; });
    a.erase(a.begin(), colon == a.end() ? a.end() : colon + 1);
    if (a.empty()) return done();
  }
  if (a.back().type == Token::dot) a.pop_back();
  if (a.empty()) return done();
  if (a.back().type == Token::at) a.pop_back();
  if (a.empty()) return done();

  if (std::none_of(a.begin(), a.end(), [](Token const& t) { return t.type == Token::at; }))
    a.insert(a.end(), host_.begin(), host_.end());

  Token& last = a.back();
  if (last.type == Token::atom && !last.text.empty() && last.text.back() == '+') {
    last.text.pop_back();
    if (last.text.empty()) {
      a.pop_back();
      a.insert(a.end(), plus_.begin() + 1, plus_.end());
    } else {
      a.insert(a.end(), plus_.begin(), plus_.end());
    }
  }

  for (size_t i = a.size(); i-- > 0;) {
    if (a[i].type == Token::at) break;
    if (a[i].type == Token::dot || a[i].type == Token::literal) return done();
  }
  a.insert(a.end(), domain_.begin(), domain_.end());
  done();
}

bool arg_address(std::string_view arg, Tokens* out) {
  out->clear();
  if (arg.size() >= 2 && arg.front() == '<' && arg.back() == '>')
    arg = arg.substr(1, arg.size() - 2);
  if (arg.empty() || arg.find_first_of(std::string_view("\r\n\0", 3)) != std::string_view::npos)
    return false;
  size_t at = arg.rfind('@');
  std::string_view box = at == std::string_view::npos ? arg : arg.substr(0, at);
  if (box.empty()) return false;
  if (dot_atom(box)) {
    if (!tokenize(box, out)) return false;
  } else {
    out->push_back(Token{Token::quoted, std::string(box)});
  }
  if (at == std::string_view::npos) return true;
  Tokens host;
  if (!host_tokens(arg.substr(at + 1), &host)) return false;
  out->push_back(Token{Token::at, {}});
  out->insert(out->end(), host.begin(), host.end());
  return true;
}

}  // namespace qf::inject
