// ISC license.
// qmail-smtpd's protocol engine (smtpd/session.h): a Session fed a client's
// bytes in pieces, with a clock that moves between pieces and the deadlines
// enforced as server.cc does, and a fake Sink that checks how it is driven.
// Input: 4 configuration bytes, then the client's byte stream.
//
// Invariants: replies are CR LF lines "ddd " or "ddd-" with no other CR or
// LF; at most one final reply per line the client ended (plus the greeting
// and one for a timeout or a violation); the sink is opened, fed, committed
// and aborted only in that order, and nothing is committed but a DATA
// transaction: a known sender, 1 to max_rcpts recipients of at most 900
// bytes with no control byte, and a message that starts with the Received
// line, holds no CR, and fits databytes.
// max_len: 4096 (tests/fuzz/run passes it to libFuzzer)
#include <string>
#include <vector>

#include "fuzz.h"
#include "smtpd/session.h"
#include "sys/exitcodes.h"

using namespace qf::smtpd;

namespace {

struct CheckSink : Sink {
  bool fail_open = false;
  int code = 0;
  bool opened = false;
  bool saw_data_reply = false;  // set by the driver when a 354 went out
  uint64_t databytes = 0;
  size_t max_rcpts = 0;
  std::string data;
  unsigned commits = 0;

  bool open() override {
    FUZZ_CHECK(!opened);
    if (fail_open) return false;
    opened = true;
    data.clear();
    return true;
  }
  uint64_t qp() const override { return 4242; }
  void put(std::string_view s) override {
    FUZZ_CHECK(opened);
    data.append(s);
  }
  int commit(std::string_view sender, std::vector<std::string> const& rcpts) override {
    FUZZ_CHECK(opened);
    opened = false;
    commits++;
    FUZZ_CHECK(!rcpts.empty() && rcpts.size() <= max_rcpts);
    for (std::string_view a : {sender}) FUZZ_CHECK(a.size() <= max_address);
    for (std::string const& r : rcpts) FUZZ_CHECK(!r.empty() && r.size() <= max_address);
    for (std::string_view a : {sender})
      for (unsigned char c : a) FUZZ_CHECK(c >= 0x20 && c != 0x7f);
    for (std::string const& r : rcpts)
      for (unsigned char c : r) FUZZ_CHECK(c >= 0x20 && c != 0x7f);
    FUZZ_CHECK(data.compare(0, 15, "Received: from ") == 0);
    FUZZ_CHECK(data.find('\r') == std::string::npos);
    size_t second = data.find('\n', data.find('\n') + 1);
    FUZZ_CHECK(second != std::string::npos);
    FUZZ_CHECK(!databytes || data.size() - second - 1 <= databytes);
    return code;
  }
  void abort() override {
    FUZZ_CHECK(opened);
    opened = false;
  }
};

bool digit(char c) { return c >= '0' && c <= '9'; }

// Checks and counts the replies in out; clears it.
size_t take_replies(std::string* out, CheckSink* sink, std::string* pending_code) {
  size_t finals = 0, pos = 0;
  while (pos < out->size()) {
    size_t crlf = out->find("\r\n", pos);
    FUZZ_CHECK(crlf != std::string::npos);
    std::string_view line = std::string_view(*out).substr(pos, crlf - pos);
    FUZZ_CHECK(line.find_first_of("\r\n") == std::string_view::npos);
    FUZZ_CHECK(line.size() >= 4 && line[0] >= '2' && line[0] <= '5' && digit(line[1]) && digit(line[2]));
    FUZZ_CHECK(line[3] == ' ' || line[3] == '-');
    // A multi-line reply keeps its code.
    if (!pending_code->empty()) FUZZ_CHECK(line.substr(0, 3) == *pending_code);
    if (line[3] == '-') {
      *pending_code = std::string(line.substr(0, 3));
    } else {
      pending_code->clear();
      finals++;
      if (line.substr(0, 4) == "354 ") sink->saw_data_reply = true;
    }
    pos = crlf + 2;
  }
  out->clear();
  return finals;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(uint8_t const* data, size_t size) {
  std::string_view in(reinterpret_cast<char const*>(data), size);
  uint8_t c0 = qf::fuzz::take_byte(&in), c1 = qf::fuzz::take_byte(&in);
  uint8_t c2 = qf::fuzz::take_byte(&in), seed = qf::fuzz::take_byte(&in);

  Config cfg;
  cfg.greeting = "mx.example.org";
  cfg.localiphost = "mx.example.org";
  cfg.peer.remote_ip = "192.0.2.7";
  cfg.peer.local_ip = "192.0.2.1";
  cfg.peer.local_host = "mx.example.org";
  cfg.rcpthosts = HostList(true, {"example.org", ".example.net"});
  cfg.badmailfrom = HostList(true, {"bad@example.com", "@spam.example"});
  cfg.relay_client = c0 & 1;
  cfg.relay_suffix = (c0 & 2) ? "-relay" : "";
  cfg.databytes = (c0 & 4) ? 64 + c1 : 0;
  cfg.max_rcpts = (c0 & 8) ? 1 + (c1 & 3) : 1000;
  cfg.max_hops = (c0 & 16) ? 2 : 100;
  cfg.max_line = (c0 & 32) ? 16 + (c2 & 63) : 2048;
  cfg.per_request_deadline = c0 & 64;
  cfg.timeout = 1 + (c2 & 15) * 30;
  cfg.min_data_rate = (c2 & 16) ? 0 : (c2 & 32) ? 1 : 500;
  cfg.session_limit = (c2 & 64) ? 60 : 3600;

  CheckSink sink;
  sink.fail_open = c0 & 128;
  sink.code = (c1 & 0xc0) == 0x40 ? qf::qq::write : (c1 & 0xc0) == 0x80 ? qf::qq::addr_too_long : 0;
  sink.databytes = cfg.databytes;
  sink.max_rcpts = cfg.max_rcpts;

  time_t now = 1000000000;
  size_t finals = 0, line_ends = 0;
  std::string pending_code;
  {
    Session s(cfg, &sink, [&now] { return now; });
    s.start();
    qf::fuzz::Splitter split(seed, qf::fuzz::piece_max(seed));
    uint32_t tick = seed * 7u + 1;
    size_t pos = 0;
    while (pos < in.size() && !s.finished()) {
      size_t n = split.next(in.size() - pos);
      std::string_view piece = in.substr(pos, n);
      for (char c : piece) line_ends += c == '\n';
      pos += n;
      s.feed(piece);
      finals += take_replies(&s.replies(), &sink, &pending_code);
      // Now and then the client takes up to 4 minutes over the next piece.
      tick = tick * 1103515245u + 12345u;
      if ((tick >> 16) % 4 == 0) now += time_t((tick >> 8) % 240);
      if (!s.finished() && s.deadline() && now >= s.deadline()) s.expire();
      finals += take_replies(&s.replies(), &sink, &pending_code);
    }
    if (s.finished()) {
      // Nothing is read or answered once the session is over.
      s.feed("NOOP\r\n");
      FUZZ_CHECK(s.replies().empty());
      FUZZ_CHECK(s.exit_code() == 0 || s.exit_code() == 100 || s.exit_code() == 111);
      FUZZ_CHECK(!sink.opened);
    } else {
      s.eof();
      FUZZ_CHECK(s.finished() && s.exit_code() == 111);
      FUZZ_CHECK(!sink.opened);
    }
    finals += take_replies(&s.replies(), &sink, &pending_code);
  }
  FUZZ_CHECK(pending_code.empty());
  FUZZ_CHECK(!sink.opened);
  FUZZ_CHECK(finals <= 2 + line_ends);
  FUZZ_CHECK(sink.commits == 0 || sink.saw_data_reply);
  return 0;
}
