// ISC license.
// dot-qmail(5) without I/O: which files name a recipient's instructions, how
// their lines read, and the environment qmail-command(8) promises. The
// recipient's extension is the only address text that reaches a file name, and
// only through safe_ext.
#ifndef QF_DELIVER_DOTQMAIL_H
#define QF_DELIVER_DOTQMAIL_H

#include <string>
#include <string_view>
#include <vector>

namespace qf::deliver {

/// The extension as it appears in a file name: lowercased, every '.' made ':'
/// (so no "..", no hidden file). False when ext holds a '/' (it would name a
/// path below the home): the caller treats the address as having no mailbox.
bool safe_ext(std::string_view ext, std::string* out);

/// One file to try, in order. default_from: where $DEFAULT starts in the
/// original extension, or npos when this file does not set DEFAULT.
struct Candidate {
  std::string file;
  size_t default_from;
};

/// The lookup order for dash and the safe extension:
///   .qmail<dash><ext>, then, when dash is not empty, for each '-' boundary of
///   ext from the longest: .qmail<dash><prefix>default, down to .qmail<dash>default.
/// "" ""    -> .qmail
/// "-" "a-b" -> .qmail-a-b .qmail-a-default .qmail-default
std::vector<Candidate> candidates(std::string_view dash, std::string_view safeext);

/// One instruction of a .qmail file.
struct Action {
  /// list: a "+list" line; from there on only forwards are allowed (as
  /// when the file has its x bit set).
  enum Kind { program, maildir, mbox, forward, list };
  Kind kind;
  std::string arg;  ///< the command (without '|'), the path, or the address (without '&')
};

/// Parses text by qmail-local's rules: lines end at '\n' (the last may lack
/// one); trailing blanks and tabs are dropped; '#' starts a comment; '|' a
/// program; '.' or '/' a file, a Maildir when it ends with '/'; "+list" the
/// list flag (any other '+' line is ignored); '&' and anything else a forward
/// address. An empty line other than the first is ignored. False with *err
/// set when the first line is empty.
bool parse_instructions(std::string_view text, std::vector<Action>* out, std::string* err);

/// The pieces of EXT: EXT2 is what follows the first '-', EXT3 the second...
/// (empty when there is no such '-').
std::string ext_after_dashes(std::string_view ext, unsigned n);

/// HOST2 is host without its last ".component", HOST3 without two, HOST4
/// without three (the whole host when there are too few dots).
std::string host_without_parts(std::string_view host, unsigned n);

}  // namespace qf::deliver

#endif
