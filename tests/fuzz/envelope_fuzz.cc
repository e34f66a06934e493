// ISC license.
// The envelope codec (queue/envelope.h): qmail-queue's fd 1 stream, as
// qmail-queue and qmail-queued read it. The first byte chooses how the rest is
// cut into pieces; fed whole or in pieces, the parser must say the same.
// max_len: 4096 (tests/fuzz/run passes it to libFuzzer)
#include <string>

#include "queue/envelope.h"
#include "fuzz.h"

using qf::queue::EnvelopeParser;

namespace {

struct Run {
  EnvelopeParser::Status st = EnvelopeParser::Status::more;
  size_t used = 0;
  std::string out;
  uint64_t rcpts = 0;
};

Run parse(std::string_view in, qf::fuzz::Splitter split) {
  Run r;
  EnvelopeParser p;
  size_t pos = 0;
  do {
    size_t n = split.next(in.size() - pos), used = ~size_t(0);
    r.st = p.feed(in.data() + pos, n, &used, &r.out);
    FUZZ_CHECK(used <= n);
    FUZZ_CHECK(r.st != EnvelopeParser::Status::more || used == n);
    pos += used;
  } while (r.st == EnvelopeParser::Status::more && pos < in.size());
  r.used = pos;
  r.rcpts = p.recipients();
  return r;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(uint8_t const* data, size_t size) {
  std::string_view in(reinterpret_cast<char const*>(data), size);
  uint8_t seed = qf::fuzz::take_byte(&in);
  Run whole = parse(in, qf::fuzz::Splitter(seed, 0));
  Run pieces = parse(in, qf::fuzz::Splitter(seed, qf::fuzz::piece_max(seed)));
  FUZZ_CHECK(whole.st == pieces.st);
  // An address found too long stops the parser where the piece that showed it
  // began: only there may the pieces tell a different story.
  if (whole.st != EnvelopeParser::Status::too_long) {
    FUZZ_CHECK(whole.used == pieces.used);
    FUZZ_CHECK(whole.out == pieces.out);
  }
  FUZZ_CHECK(whole.rcpts == pieces.rcpts);

  // What was handed out are records copied byte for byte: F first, then T,
  // none empty but the sender, none longer than kMaxAddress.
  FUZZ_CHECK(in.substr(0, whole.out.size()) == whole.out);
  uint64_t n = 0, t = 0;
  bool whole_records = qf::queue::for_each_record(whole.out, [&](char type, std::string_view v) {
    FUZZ_CHECK(type == (n++ == 0 ? 'F' : 'T'));
    FUZZ_CHECK(v.size() <= qf::queue::kMaxAddress);
    FUZZ_CHECK(type == 'F' || !v.empty());
    if (type == 'T') t++;
    return true;
  });
  FUZZ_CHECK(t == whole.rcpts);
  if (whole.st == EnvelopeParser::Status::done) {
    // The whole envelope is the records and one more NUL, nothing after it consumed.
    FUZZ_CHECK(whole_records && n >= 1);
    FUZZ_CHECK(whole.used == whole.out.size() + 1 && in[whole.out.size()] == '\0');
  }
  if (whole.st == EnvelopeParser::Status::more) FUZZ_CHECK(whole.used == in.size());
  return 0;
}
