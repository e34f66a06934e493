// ISC license.
// dot-qmail(5) (deliver/dotqmail.h): the instruction parser qmail-local runs
// over a user's .qmail file, and the mapping of an address extension to the
// file names it may open. Input: extension NUL host NUL .qmail contents.
// max_len: 2048 (tests/fuzz/run passes it to libFuzzer)
#include <string>
#include <vector>

#include "deliver/dotqmail.h"
#include "fuzz.h"

using qf::deliver::Action;

extern "C" int LLVMFuzzerTestOneInput(uint8_t const* data, size_t size) {
  std::string_view in(reinterpret_cast<char const*>(data), size);
  std::string_view ext = qf::fuzz::take_until_nul(&in);
  std::string_view host = qf::fuzz::take_until_nul(&in);
  std::string_view text = in;

  // No extension names a file outside the home, or a hidden one other than .qmail*.
  std::string safe;
  if (qf::deliver::safe_ext(ext, &safe)) {
    FUZZ_CHECK(safe.size() == ext.size());
    FUZZ_CHECK(safe.find_first_of("/.") == std::string::npos);
    for (char c : safe) FUZZ_CHECK(!(c >= 'A' && c <= 'Z'));
    for (std::string_view dash : {"", "-"}) {
      auto cands = qf::deliver::candidates(dash, safe);
      FUZZ_CHECK(!cands.empty() && (dash.empty() ? cands.size() == 1 : cands.size() >= 2));
      for (auto const& c : cands) {
        FUZZ_CHECK(c.file.compare(0, 6 + dash.size(), std::string(".qmail") + std::string(dash)) == 0);
        FUZZ_CHECK(c.file.find('/') == std::string::npos);
        FUZZ_CHECK(c.file.find('.', 1) == std::string::npos);
        FUZZ_CHECK(c.default_from == std::string::npos || c.default_from <= safe.size());
      }
    }
  } else {
    FUZZ_CHECK(ext.find('/') != std::string_view::npos);
  }
  for (unsigned n = 0; n < 4; n++) {
    std::string e = qf::deliver::ext_after_dashes(ext, n);
    FUZZ_CHECK(e.size() <= ext.size() && ext.substr(ext.size() - e.size()) == e);
    std::string h = qf::deliver::host_without_parts(host, n);
    FUZZ_CHECK(host.substr(0, h.size()) == h);
  }

  std::vector<Action> actions;
  std::string err;
  bool ok = qf::deliver::parse_instructions(text, &actions, &err);
  if (!ok) {
    FUZZ_CHECK(!err.empty() && actions.empty());
    return 0;
  }
  for (auto const& a : actions) {
    FUZZ_CHECK(a.arg.find('\n') == std::string::npos);
    FUZZ_CHECK(a.arg.empty() || (a.arg.back() != ' ' && a.arg.back() != '\t'));
    switch (a.kind) {
      case Action::maildir:
        FUZZ_CHECK(!a.arg.empty() && (a.arg[0] == '.' || a.arg[0] == '/') && a.arg.back() == '/');
        break;
      case Action::mbox:
        FUZZ_CHECK(!a.arg.empty() && (a.arg[0] == '.' || a.arg[0] == '/') && a.arg.back() != '/');
        break;
      case Action::list:
        FUZZ_CHECK(a.arg.empty());
        break;
      case Action::program:
      case Action::forward:
        break;
    }
  }
  return 0;
}
