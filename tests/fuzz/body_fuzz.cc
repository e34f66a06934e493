// ISC license.
// The SMTP body encoder (remote/body.h), differential: the message, fed to
// the encoder in pieces as qmail-remote reads it, goes on the wire as CR LF
// lines with no bare CR or LF and no "<CRLF>.<CRLF>" before the final one (no
// smuggled end of data), and decodes back to the message with its line ends
// normalised. BodyScanner's SIZE and 8BITMIME agree with what was sent.
// max_len: 4096 (tests/fuzz/run passes it to libFuzzer)
#include <string>

#include "fuzz.h"
#include "remote/body.h"

using namespace qf::remote;

extern "C" int LLVMFuzzerTestOneInput(uint8_t const* data, size_t size) {
  std::string_view in(reinterpret_cast<char const*>(data), size);
  uint8_t seed = qf::fuzz::take_byte(&in);
  qf::fuzz::Splitter split(seed, qf::fuzz::piece_max(seed));
  BodyEncoder enc;
  BodyScanner scan;
  std::string wire;
  for (size_t pos = 0; pos < in.size();) {
    size_t n = split.next(in.size() - pos);
    enc.feed(in.substr(pos, n), &wire);
    scan.feed(in.substr(pos, n));
    pos += n;
  }
  enc.finish(&wire);
  BodyInfo info = scan.finish();

  // CR LF lines only.
  for (size_t i = 0; i < wire.size(); i++) {
    if (wire[i] == '\r') FUZZ_CHECK(i + 1 < wire.size() && wire[i + 1] == '\n');
    if (wire[i] == '\n') FUZZ_CHECK(i > 0 && wire[i - 1] == '\r');
  }
  // The DATA command's CR LF comes before: the first end of data is the last bytes.
  std::string all = "\r\n" + wire;
  FUZZ_CHECK(all.find("\r\n.\r\n") == all.size() - 5);

  std::string decoded;
  FUZZ_CHECK(decode_body(wire, &decoded));
  std::string norm = normalise_body(in);
  FUZZ_CHECK(decoded == norm);

  size_t lines = 0, stuffed = 0;
  for (size_t i = 0; i < norm.size(); i++) {
    if (norm[i] == '\n') lines++;
    if (norm[i] == '.' && (i == 0 || norm[i - 1] == '\n')) stuffed++;
  }
  FUZZ_CHECK(info.size == norm.size() + lines);
  FUZZ_CHECK(wire.size() == norm.size() + lines + stuffed + 3);
  bool eight = false;
  for (unsigned char c : in) eight |= c >= 128;
  FUZZ_CHECK(info.eightbit == eight);
  return 0;
}
