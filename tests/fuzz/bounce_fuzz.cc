// ISC license.
// bounce/N (send/bounce.h): the record qmail-send appends for one failed
// recipient, read back by people and by programs that parse qmail's bounce
// format (a paragraph per recipient). Whatever the recipient and the report
// hold, a record is one paragraph: "<rcpt>:" on its own line, no blank line
// inside, and exactly one blank line at its end. Input: rcpt NUL report.
// max_len: 1024 (tests/fuzz/run passes it to libFuzzer)
#include <string>

#include "fuzz.h"
#include "send/bounce.h"

extern "C" int LLVMFuzzerTestOneInput(uint8_t const* data, size_t size) {
  std::string_view in(reinterpret_cast<char const*>(data), size);
  std::string_view rcpt = qf::fuzz::take_until_nul(&in);
  std::string r = qf::send::bounce_record(rcpt, in);
  FUZZ_CHECK(r.size() >= rcpt.size() + 5);
  FUZZ_CHECK(r.compare(0, 1, "<") == 0 && r.compare(rcpt.size() + 1, 3, ">:\n") == 0);
  FUZZ_CHECK(r.find('\n') == rcpt.size() + 3);  // the recipient stays on its line
  FUZZ_CHECK(r.compare(r.size() - 2, 2, "\n\n") == 0);
  FUZZ_CHECK(r.find("\n\n") == r.size() - 2);  // the only blank line ends the record
  FUZZ_CHECK((qf::send::bounce_kind(rcpt) == qf::send::BounceKind::double_bounce) == rcpt.empty());
  return 0;
}
