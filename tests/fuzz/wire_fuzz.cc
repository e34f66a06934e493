// ISC license.
// qmail-queued's wire (queue/wire.h): the Framer splits a client's stream into
// message data and envelope, and the envelope goes to the EnvelopeParser, as
// qmail-queued's worker does. The first byte picks the mode and the pieces:
//   raw:     the input is the stream; whole or in pieces, the same data,
//            envelope and stopping point, and every call makes progress;
//   encoded: the input is message NUL envelope; the message is sent in chunks
//            with put_chunk_header, and must come out byte for byte.
// max_len: 4096 (tests/fuzz/run passes it to libFuzzer)
#include <string>

#include "fuzz.h"
#include "queue/envelope.h"
#include "queue/wire.h"

using namespace qf::queue;

namespace {

struct Run {
  std::string data, records;
  bool bad = false;
  EnvelopeParser::Status env = EnvelopeParser::Status::more;
  size_t used = 0;
};

Run frame(std::string_view in, qf::fuzz::Splitter split) {
  Run r;
  wire::Framer f;
  EnvelopeParser p;
  size_t pos = 0;
  while (pos < in.size()) {
    size_t n = split.next(in.size() - pos);
    std::string_view piece = in.substr(pos, n);
    size_t at = 0;
    while (at < piece.size()) {
      if (!f.in_envelope()) {
        size_t len = ~size_t(0);
        wire::Framer::Kind k = f.next(piece.data() + at, piece.size() - at, &len);
        if (k == wire::Framer::Kind::bad) {
          r.bad = true;
          r.used = pos + at + len;
          return r;
        }
        FUZZ_CHECK(len > 0 && len <= piece.size() - at);
        FUZZ_CHECK(k == wire::Framer::Kind::data || k == wire::Framer::Kind::need_more);
        if (k == wire::Framer::Kind::data) r.data.append(piece.substr(at, len));
        at += len;
        continue;
      }
      size_t used = ~size_t(0);
      r.env = p.feed(piece.data() + at, piece.size() - at, &used, &r.records);
      FUZZ_CHECK(used <= piece.size() - at);
      at += used;
      if (r.env != EnvelopeParser::Status::more) {
        r.used = pos + at;
        return r;
      }
    }
    pos += n;
  }
  r.used = pos;
  return r;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(uint8_t const* data, size_t size) {
  std::string_view in(reinterpret_cast<char const*>(data), size);
  uint8_t how = qf::fuzz::take_byte(&in);
  qf::fuzz::Splitter pieces(how, qf::fuzz::piece_max(how));
  if (!(how & 128)) {
    Run whole = frame(in, qf::fuzz::Splitter(how, 0));
    Run cut = frame(in, pieces);
    FUZZ_CHECK(whole.data == cut.data && whole.bad == cut.bad && whole.env == cut.env);
    // As in envelope_fuzz: a too long address stops the parser piece-dependently.
    if (whole.env != EnvelopeParser::Status::too_long)
      FUZZ_CHECK(whole.records == cut.records && whole.used == cut.used);
    return 0;
  }
  std::string_view message = qf::fuzz::take_until_nul(&in);
  std::string stream;
  qf::fuzz::Splitter chunks(uint8_t(how * 3), qf::fuzz::piece_max(uint8_t(how >> 3)));
  for (size_t pos = 0; pos < message.size();) {
    size_t n = chunks.next(message.size() - pos);
    wire::put_chunk_header(&stream, uint32_t(n));
    stream.append(message.substr(pos, n));
    pos += n;
  }
  wire::put_chunk_header(&stream, 0);
  stream.append(in);
  Run r = frame(stream, pieces);
  FUZZ_CHECK(!r.bad && r.data == message);
  FUZZ_CHECK(r.records == in.substr(0, r.records.size()));
  return 0;
}
