// ISC license.
// The spawner protocol's decoders (proto/spawn.h): CommandReader, as
// qmail-lspawn and qmail-rspawn read qmail-send, and ReportReader, as
// qmail-send reads its spawners. Fed whole or in pieces they decode the same;
// a decoded command or report encodes back to the bytes it came from; the
// bounds (address length, recipients, report text) hold. The first byte picks
// the decoder and the piece sizes.
// max_len: 12288 (tests/fuzz/run passes it to libFuzzer)
#include <string>
#include <vector>

#include "fuzz.h"
#include "proto/spawn.h"

using namespace qf::spawn;

namespace {

struct Commands {
  std::vector<Command> got;
  std::vector<size_t> ends;  // where each command ended in the input
  bool bad = false;
  size_t used = 0;
};

Commands commands(std::string_view in, qf::fuzz::Splitter split) {
  Commands r;
  CommandReader rd;
  size_t pos = 0;
  while (pos < in.size()) {
    size_t n = split.next(in.size() - pos), used = ~size_t(0);
    CommandReader::Status st = rd.feed(in.data() + pos, n, &used);
    FUZZ_CHECK(used <= n && (st != CommandReader::Status::more || used == n));
    pos += used;
    if (st == CommandReader::Status::bad) {
      r.bad = true;
      break;
    }
    if (st == CommandReader::Status::command) {
      r.got.push_back(rd.take());
      r.ends.push_back(pos);
    }
  }
  r.used = pos;
  return r;
}

// Reports: slot s has s % 4 recipients outstanding (0: no command, bad).
size_t expected(unsigned slot) { return slot % 4; }

struct Reports {
  std::vector<std::pair<unsigned, std::vector<Result>>> got;
  std::vector<Verdict> verdicts;
  std::vector<size_t> ends;
  bool bad = false;
  size_t used = 0;
};

Reports reports(std::string_view in, qf::fuzz::Splitter split) {
  Reports r;
  ReportReader rd(expected);
  size_t pos = 0;
  while (pos < in.size()) {
    size_t n = split.next(in.size() - pos), used = ~size_t(0);
    ReportReader::Status st = rd.feed(in.data() + pos, n, &used);
    FUZZ_CHECK(used <= n && (st != ReportReader::Status::more || used == n));
    pos += used;
    if (st == ReportReader::Status::bad) {
      r.bad = true;
      break;
    }
    if (st == ReportReader::Status::report) {
      r.verdicts.push_back(rd.verdict());
      r.got.emplace_back(rd.slot(), rd.take());
      r.ends.push_back(pos);
    }
  }
  r.used = pos;
  return r;
}

void check_commands(std::string_view in, uint8_t seed) {
  Commands whole = commands(in, qf::fuzz::Splitter(seed, 0));
  Commands pieces = commands(in, qf::fuzz::Splitter(seed, qf::fuzz::piece_max(seed)));
  FUZZ_CHECK(whole.bad == pieces.bad && whole.used == pieces.used && whole.ends == pieces.ends);
  size_t start = 0;
  for (size_t i = 0; i < whole.got.size(); i++) {
    Command const& c = whole.got[i];
    Command const& d = pieces.got[i];
    FUZZ_CHECK(c.slot == d.slot && c.id == d.id && c.sender == d.sender && c.rcpts == d.rcpts);
    FUZZ_CHECK(c.slot <= kMaxSlots);
    FUZZ_CHECK(!c.rcpts.empty() && c.rcpts.size() <= kMaxRecipients);
    FUZZ_CHECK(c.sender.size() <= kMaxAddress);
    for (auto const& a : c.rcpts) FUZZ_CHECK(!a.empty() && a.size() <= kMaxAddress);
    // It encodes back to its bytes; the only freedom is leading zeros in the id.
    std::string again;
    encode(c, &again);
    std::string_view orig = in.substr(start, whole.ends[i] - start);
    size_t a = again.find('\0', 2), o = orig.find('\0', 2);
    FUZZ_CHECK(a != std::string::npos && o != std::string_view::npos);
    FUZZ_CHECK(again.compare(0, 2, orig.substr(0, 2)) == 0);
    FUZZ_CHECK(again.compare(a, std::string::npos, orig.substr(o)) == 0);
    std::string_view id = orig.substr(2, o - 2);
    while (id.size() > 1 && id[0] == '0') id.remove_prefix(1);
    FUZZ_CHECK(again.compare(2, a - 2, id) == 0);
    start = whole.ends[i];
  }
}

void check_reports(std::string_view in, uint8_t seed) {
  Reports whole = reports(in, qf::fuzz::Splitter(seed, 0));
  Reports pieces = reports(in, qf::fuzz::Splitter(seed, qf::fuzz::piece_max(seed)));
  FUZZ_CHECK(whole.bad == pieces.bad && whole.used == pieces.used && whole.ends == pieces.ends);
  size_t start = 0;
  for (size_t i = 0; i < whole.got.size(); i++) {
    auto const& [slot, results] = whole.got[i];
    FUZZ_CHECK(slot == pieces.got[i].first && results.size() == pieces.got[i].second.size());
    FUZZ_CHECK(results.size() == expected(slot));
    Verdict v = whole.verdicts[i];
    FUZZ_CHECK(v == pieces.verdicts[i]);
    FUZZ_CHECK(v == Verdict::ok || v == Verdict::site || v == Verdict::none || v == Verdict::crash);
    bool truncated = false;
    for (size_t k = 0; k < results.size(); k++) {
      FUZZ_CHECK(results[k].status == pieces.got[i].second[k].status);
      FUZZ_CHECK(results[k].text == pieces.got[i].second[k].text);
      FUZZ_CHECK(results[k].text.size() <= kMaxReport);
      FUZZ_CHECK(results[k].text.find('\0') == std::string::npos);
      truncated |= results[k].text.size() == kMaxReport;
    }
    std::string again;
    encode_report(slot, v, results, &again);
    if (!truncated) FUZZ_CHECK(again == in.substr(start, whole.ends[i] - start));
    start = whole.ends[i];
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(uint8_t const* data, size_t size) {
  std::string_view in(reinterpret_cast<char const*>(data), size);
  uint8_t how = qf::fuzz::take_byte(&in);
  if (how & 128)
    check_reports(in, how);
  else
    check_commands(in, how);
  return 0;
}
