// ISC license.
// RFC 822 structured fields as qmail-inject sees them (qmail-header(5)): a
// tokenizer, an address-list walker that lets a caller rewrite every address
// in place, and a renderer that folds long lists after commas. Pure: no I/O,
// no globals. Nothing here throws except std::bad_alloc.
#ifndef QF_INJECT_TOKEN822_H
#define QF_INJECT_TOKEN822_H

#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace qf::inject {

/// One lexical unit of a structured field.
struct Token {
  enum Type : unsigned char {
    atom,     ///< a run of atom characters (text unescaped)
    quoted,   ///< "..." (text without the quotes, unescaped, unfolded)
    literal,  ///< [...] (text without the brackets)
    comment,  ///< (...) (text without the outer parentheses)
    dot, at, comma, colon, semi, left, right,  ///< . @ , : ; < >
  };
  Type type;
  std::string text;
  /// Blanks came before it in the input: kept between words of a phrase
  /// ("J. R. Smith"), dropped inside addresses (the qualifier clears it).
  bool blank_before = false;

  bool operator==(Token const& o) const { return type == o.type && text == o.text; }
};
using Tokens = std::vector<Token>;

/// Splits s into tokens. Blanks, tabs, CRs and LFs separate tokens; a backslash
/// quotes the next byte. No token text holds a CR or LF (folding is undone). False on an unterminated quoted string, comment or
/// literal, or on a ')' or ']' that opens nothing; *out is then unspecified.
bool tokenize(std::string_view s, Tokens* out);

/// Renders tokens as field contents: a blank after ':' and ',', between
/// words, and where the input had one outside an address; quoting and
/// escaping as needed. Lines are folded after a comma
/// ("\n  ") when the next item would pass column width; first_col is the width
/// already used on the first line (the field name and ": "). No final newline;
/// a CR or LF in a token's text is written as a blank.
std::string render(Tokens const& t, size_t first_col, size_t width = 80);

/// The address as an envelope wants it: atoms and quoted strings as their
/// text, literals in brackets, specials as themselves, comments dropped.
std::string unquote(Tokens const& t);

/// True when s can stand as the local part of an address without quotes.
bool dot_atom(std::string_view s);

/// box@host with box quoted when it needs to be (qmail's quote2); the split is
/// at the last '@'. Used to show an envelope address in a header.
std::string quote_address(std::string_view addr);

/// Walks the address list t (To:, From:, ... contents; groups, route
/// addresses, comments; a blank between two addresses counts as a comma) and
/// calls rewrite once per address with its tokens in order, which it may
/// change. "<>" is an address with no tokens. *out receives the list with
/// every address rewritten. False on a ':' outside a group, a group inside a
/// group, or a '>' without '<'; rewrite may have been called for some
/// addresses by then, so callers collect results and keep them only on
/// success.
bool rewrite_address_list(Tokens const& t, Tokens* out,
                          std::function<void(Tokens*)> const& rewrite);

}  // namespace qf::inject

#endif
