// ISC license.
// Diagnostics in the djb/skarnet grammar: "PROG: fatal: unable to VERB OBJECT: reason".
// Thin variadic wrappers over strerr_diev/strerr_warnv, whose macros do not
// compile as C++ (compound literal arrays). PROG is defined by each program.
#ifndef QF_SYS_STRERR_H
#define QF_SYS_STRERR_H

#include "sys/skalibs.h"

namespace qf {

/// Prints PROG ": fatal: " parts... and exits with code. Never returns.
template <typename... S>
[[noreturn]] void die(int code, S const&... s) {
  char const* v[] = {PROG, ": fatal: ", s...};
  strerr_diev(code, v, sizeof v / sizeof *v);
}

/// As die, then ": " and strerror(errno).
template <typename... S>
[[noreturn]] void die_sys(int code, S const&... s) {
  char const* v[] = {PROG, ": fatal: ", s...};
  strerr_dievsys(code, v, sizeof v / sizeof *v);
}

/// Prints PROG ": usage: " usage and exits 100.
[[noreturn]] inline void die_usage(char const* usage) {
  char const* v[] = {PROG, ": usage: ", usage};
  strerr_diev(100, v, 3);
}

/// Prints PROG ": warning: " parts...; returns.
template <typename... S>
void warn(S const&... s) {
  char const* v[] = {PROG, ": warning: ", s...};
  strerr_warnv(v, sizeof v / sizeof *v);
}

/// As warn, then ": " and strerror(errno).
template <typename... S>
void warn_sys(S const&... s) {
  char const* v[] = {PROG, ": warning: ", s...};
  strerr_warnvsys(v, sizeof v / sizeof *v);
}

/// Prints PROG ": info: " parts...; returns.
template <typename... S>
void info(S const&... s) {
  char const* v[] = {PROG, ": info: ", s...};
  strerr_warnv(v, sizeof v / sizeof *v);
}

}  // namespace qf

#endif
