// ISC license.
// Every control file a qfleet program reads (qmail-control(5)), with its
// kind, its default and its readers: qmail-showctl's table. When a program
// starts reading a new file, add it here and to qmail-control(5).
#ifndef QF_ADMIN_CONTROLS_H
#define QF_ADMIN_CONTROLS_H

#include <span>
#include <string>
#include <vector>

namespace qf::admin {

enum class Kind { line, list, number };

struct ControlSpec {
  char const* name;
  Kind kind;
  char const* def;      ///< the default, as text for people
  char const* readers;  ///< the programs that read it
};

std::span<ControlSpec const> control_specs();
ControlSpec const* find_control(std::string const& name);

/// qmail-showctl's report of one file: its name, "set" or "default", and the
/// value (the content as the reader takes it: first line trimmed for a line
/// or a number, every non-comment line for a list) or the default.
/// exists/lines come from the file (lines as conf::control_list returns them,
/// or the first line alone).
std::string show_control(ControlSpec const& c, bool exists, std::vector<std::string> const& lines);

}  // namespace qf::admin

#endif
