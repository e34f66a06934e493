// ISC license.
// RFC 822 as qmail-inject reads it (inject/token822.h, qualify.h, hfield.h):
// the tokenizer, the renderer, the address-list walker with the qualifier, and
// the header field name functions. Input: 1 byte (render width), then a field.
//
// Invariants: no token holds a CR or LF; what render writes tokenizes back to
// the same tokens (an atom that needs quotes comes back quoted); an address
// list qmail-inject rewrote and rendered can be read again; the envelope form
// of an address holds no CR or LF; the field name and value put back together
// are the field.
// max_len: 2048 (tests/fuzz/run passes it to libFuzzer)
#include <string>

#include "fuzz.h"
#include "inject/hfield.h"
#include "inject/qualify.h"
#include "inject/token822.h"

using namespace qf::inject;

namespace {

Token::Type kind(Token::Type t) { return t == Token::quoted ? Token::atom : t; }

bool same(Tokens const& a, Tokens const& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); i++)
    if (kind(a[i].type) != kind(b[i].type) || a[i].text != b[i].text) return false;
  return true;
}

Qualifier const& qualifier() {
  static Qualifier q = [] {
    Qualifier q;
    std::string bad;
    FUZZ_CHECK(q.init("host.example", "example.org", "plus.example", &bad));
    return q;
  }();
  return q;
}

void no_line_end(std::string_view s) { FUZZ_CHECK(s.find_first_of("\r\n") == std::string_view::npos); }

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(uint8_t const* data, size_t size) {
  std::string_view in(reinterpret_cast<char const*>(data), size);
  size_t width = 20 + qf::fuzz::take_byte(&in) % 100;

  // hfield
  std::string_view name = field_name(in);
  std::string_view value = field_value(in);
  if (in.find(':') != std::string_view::npos) {
    FUZZ_CHECK(in.substr(0, name.size()) == name);
    FUZZ_CHECK(in.size() >= value.size() + 1 && in.substr(in.size() - value.size()) == value);
    FUZZ_CHECK(in[in.size() - value.size() - 1] == ':');
    if (starts_field(in)) FUZZ_CHECK(!name.empty());
  } else {
    FUZZ_CHECK(name.empty() && value.empty() && !starts_field(in));
  }
  (void)field_kind(in);

  Tokens t;
  if (!tokenize(in, &t)) return 0;
  for (Token const& tok : t) no_line_end(tok.text);
  std::string r = render(t, name.size() + 2, width);
  Tokens back;
  FUZZ_CHECK(tokenize(r, &back));
  FUZZ_CHECK(same(t, back));

  Tokens out;
  bool ok = rewrite_address_list(t, &out, [](Tokens* a) {
    qualifier()(a);
    no_line_end(unquote(*a));
  });
  if (ok) {
    std::string written = render(out, name.size() + 2, width);
    Tokens again, out2;
    FUZZ_CHECK(tokenize(written, &again));
    FUZZ_CHECK(same(out, again));
    FUZZ_CHECK(rewrite_address_list(again, &out2, [](Tokens* a) { qualifier()(a); }));
  }

  // An address from the command line (qmail-inject's arguments, -f).
  Tokens arg;
  if (arg_address(in, &arg)) {
    qualifier()(&arg);
    std::string a = unquote(arg);
    no_line_end(a);
    FUZZ_CHECK(a.find('\0') == std::string::npos);
    Tokens q;
    FUZZ_CHECK(tokenize(quote_address(a), &q));
  }
  if (dot_atom(in)) FUZZ_CHECK(tokenize(in, &t));
  return 0;
}
