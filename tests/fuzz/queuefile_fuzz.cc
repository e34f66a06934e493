// ISC license.
// The queue files' record readers: todo/N and info/N as todo-proc and
// qmail-send walk them (queue::for_each_record), local/N and remote/N as
// qmail-send splits them into pending recipients (send::parse_channel_file),
// and the batching of those recipients. The first byte picks the reader.
// max_len: 2048 (tests/fuzz/run passes it to libFuzzer)
#include <string>
#include <vector>

#include "fuzz.h"
#include "queue/envelope.h"
#include "send/core.h"

namespace {

// for_each_record: the records visited, put back together, are the file (or
// its part before an unterminated record); a callback returning false stops
// the walk at that record.
void records(std::string_view data, uint8_t stop_at) {
  std::string again;
  size_t visited = 0;
  bool whole = qf::queue::for_each_record(data, [&](char type, std::string_view v) {
    if (type == '\0') {
      FUZZ_CHECK(v.empty());
      again.push_back('\0');
    } else {
      qf::queue::put_record(&again, type, v);
    }
    return ++visited != size_t(stop_at) + 1;
  });
  if (visited <= stop_at) {
    FUZZ_CHECK(whole == (data.empty() || data.back() == '\0'));
    FUZZ_CHECK(data.substr(0, again.size()) == again);
    FUZZ_CHECK(again.size() == data.size() || data.find('\0', again.size()) == std::string_view::npos);
  } else {
    FUZZ_CHECK(whole);
    FUZZ_CHECK(data.substr(0, again.size()) == again);
  }
}

// parse_channel_file: each pending recipient is the T record at its offset;
// a file that parses holds only T and D records and ends with a NUL.
void channel(std::string_view data, uint64_t base) {
  std::vector<qf::send::QueuedRcpt> pending;
  bool ok = qf::send::parse_channel_file(data, base, &pending);
  size_t t = 0, prev = 0;
  bool first = true;
  for (auto const& r : pending) {
    FUZZ_CHECK(r.offset >= base);
    size_t at = size_t(r.offset - base);
    FUZZ_CHECK(at < data.size() && data[at] == 'T');
    FUZZ_CHECK(first || at > prev);
    FUZZ_CHECK(data.substr(at + 1, r.addr.size()) == r.addr);
    FUZZ_CHECK(at + 1 + r.addr.size() < data.size() && data[at + 1 + r.addr.size()] == '\0');
    prev = at;
    first = false;
  }
  if (!ok) return;
  bool whole = qf::queue::for_each_record(data, [&](char type, std::string_view) {
    FUZZ_CHECK(type == 'T' || type == 'D');
    t += type == 'T';
    return true;
  });
  FUZZ_CHECK(whole && t == pending.size());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(uint8_t const* data, size_t size) {
  std::string_view in(reinterpret_cast<char const*>(data), size);
  uint8_t how = qf::fuzz::take_byte(&in);
  if (how & 1)
    channel(in, uint64_t(how >> 1) * 4096);  // a later part of a big file
  else
    records(in, uint8_t(how >> 1));
  return 0;
}
