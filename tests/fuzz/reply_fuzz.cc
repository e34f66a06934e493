// ISC license.
// SMTP replies as qmail-remote reads them (remote/reply.h): fed whole or in
// pieces, the parser gives the same replies and stops at the same byte; each
// reply has a code of 200-599, a bounded text of printable lines, and at most
// kMaxBytes and kMaxLines went into it. The EHLO keywords are read from each.
// max_len: 8192 (tests/fuzz/run passes it to libFuzzer)
#include <string>
#include <vector>

#include "fuzz.h"
#include "remote/reply.h"

using qf::remote::Reply;
using qf::remote::ReplyParser;

namespace {

struct Run {
  std::vector<Reply> replies;
  bool bad = false;
  size_t used = 0;
};

Run parse(std::string_view in, qf::fuzz::Splitter split) {
  Run r;
  ReplyParser p;
  size_t pos = 0;
  while (pos < in.size()) {
    size_t n = split.next(in.size() - pos), used = ~size_t(0);
    ReplyParser::Status st = p.feed(in.data() + pos, n, &used);
    FUZZ_CHECK(used <= n);
    pos += used;
    if (st == ReplyParser::Status::bad) {
      FUZZ_CHECK(*p.error() != '\0');
      r.bad = true;
      break;
    }
    if (st == ReplyParser::Status::reply) {
      r.replies.push_back(p.take());
      continue;
    }
    FUZZ_CHECK(used == n);
  }
  r.used = pos;
  return r;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(uint8_t const* data, size_t size) {
  std::string_view in(reinterpret_cast<char const*>(data), size);
  uint8_t seed = qf::fuzz::take_byte(&in);
  Run whole = parse(in, qf::fuzz::Splitter(seed, 0));
  Run pieces = parse(in, qf::fuzz::Splitter(seed, qf::fuzz::piece_max(seed)));
  FUZZ_CHECK(whole.bad == pieces.bad && whole.used == pieces.used);
  FUZZ_CHECK(whole.replies.size() == pieces.replies.size());
  for (size_t i = 0; i < whole.replies.size(); i++) {
    Reply const& r = whole.replies[i];
    FUZZ_CHECK(r.code == pieces.replies[i].code && r.text == pieces.replies[i].text);
    FUZZ_CHECK(r.code >= 200 && r.code <= 599);
    FUZZ_CHECK(r.text.size() <= ReplyParser::kMaxText);
    FUZZ_CHECK(!r.text.empty() && r.text.back() == '\n');
    for (unsigned char c : r.text) FUZZ_CHECK(c == '\n' || (c >= 32 && c != 127));
    qf::remote::Extensions e = qf::remote::parse_ehlo(r);
    FUZZ_CHECK(e.esmtp == (r.code == 250));
    FUZZ_CHECK(e.size || e.size_limit == 0);
  }
  // Every reply ends its last line; nothing but a bound or the grammar stops it.
  size_t lfs = 0;
  for (char c : in.substr(0, whole.used)) lfs += c == '\n';
  FUZZ_CHECK(lfs >= whole.replies.size());
  FUZZ_CHECK(whole.bad || whole.used == in.size());
  return 0;
}
