// ISC license.
// defer/N (queue/status.h): qmail-send's per-recipient status log as
// qmail-qread reads it, possibly torn or damaged. Input: the file's bytes.
// Every record parsed survives a round trip through put_status, and
// one_line never leaves a control byte.
// max_len: 4096 (tests/fuzz/run passes it to libFuzzer)
#include <string>
#include <vector>

#include "fuzz.h"
#include "queue/status.h"

extern "C" int LLVMFuzzerTestOneInput(uint8_t const* data, size_t size) {
  std::string_view in(reinterpret_cast<char const*>(data), size);
  std::vector<qf::queue::RcptStatus> v;
  qf::queue::parse_status(in, &v);
  std::string again;
  for (auto const& s : v) {
    FUZZ_CHECK(s.channel == 'L' || s.channel == 'R');
    FUZZ_CHECK(s.addr.find('\0') == std::string::npos && s.text.find('\0') == std::string::npos);
    qf::queue::put_status(&again, s.channel, s.when, s.addr, s.text);
  }
  std::vector<qf::queue::RcptStatus> w;
  FUZZ_CHECK(qf::queue::parse_status(again, &w));
  FUZZ_CHECK(w.size() == v.size());
  for (size_t i = 0; i < v.size() && i < w.size(); i++)
    FUZZ_CHECK(w[i].addr == v[i].addr && w[i].text == v[i].text && w[i].when == v[i].when);
  for (char c : qf::queue::one_line(in)) FUZZ_CHECK(static_cast<unsigned char>(c) >= 32 && c != 127);
  return 0;
}
