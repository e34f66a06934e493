// ISC license.
// qmail-inject's header rewriting (inject/injector.h HeaderRewriter): the
// input is cut into header fields the way inject() cuts a message (a line
// that starts a field, then its continuation lines), fed to the rewriter, and
// the header it writes must still be a header: non-empty lines, each one a
// field's first line or a continuation, so that nothing an address holds can
// end the header early or start a field of its own. The envelope it settles
// holds no NUL, CR or LF. The first byte picks the options.
// max_len: 4096 (tests/fuzz/run passes it to libFuzzer)
#include <string>
#include <vector>

#include "fuzz.h"
#include "inject/hfield.h"
#include "inject/injector.h"

using namespace qf::inject;

namespace {

void clean_address(std::string_view a) {
  FUZZ_CHECK(a.find_first_of(std::string_view("\r\n\0", 3)) == std::string_view::npos);
}

// Splits like inject(): returns the fields; stops at the end of the header.
std::vector<std::string> fields(std::string_view in) {
  std::vector<std::string> out;
  while (!in.empty()) {
    size_t nl = in.find('\n');
    std::string_view line = in.substr(0, nl == std::string_view::npos ? in.size() : nl + 1);
    in.remove_prefix(line.size());
    if (line.back() != '\n') break;  // inject() reads no partial line as a field
    if (!out.empty() && (line[0] == ' ' || line[0] == '\t')) {
      out.back().append(line);
      continue;
    }
    if (line == "\n" || line == "\r\n") break;
    if (line.starts_with("From "))
      out.push_back("MBOX-Line: " + std::string(line));
    else if (starts_field(line))
      out.emplace_back(line);
    else
      break;
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(uint8_t const* data, size_t size) {
  std::string_view in(reinterpret_cast<char const*>(data), size);
  uint8_t how = qf::fuzz::take_byte(&in);

  Options opt;
  opt.mode = Recipients(how & 3);
  opt.queue = how & 4;
  if (how & 8) opt.recipients = {"arg@example.com", "box"};
  if (how & 16) opt.sender = "from@example.com";
  Identity id;
  id.user = "user";
  id.host = "host.example";
  id.name = "A. User";
  id.name_comment = how & 32;
  id.verp_recipient = how & 64;
  id.now = 1000000000;
  id.pid = 4242;
  Config cfg;
  FUZZ_CHECK(make_config(id, "host.example", "example.org", "plus.example", "id.example", &cfg).ok());
  if (how & 128) cfg.mailing_lists = {"list@example.org"};

  HeaderRewriter h(opt, id, cfg);
  FUZZ_CHECK(h.start().ok());
  for (std::string const& f : fields(in)) {
    Result r = h.field(f);
    if (!r.ok()) {
      FUZZ_CHECK(r.code == 100 && !r.error.empty());
      return 0;
    }
  }
  std::string head;
  Result r = h.finish(&head);
  if (!r.ok()) {
    FUZZ_CHECK(r.code == 100 && !r.error.empty());
    return 0;
  }
  FUZZ_CHECK(!head.empty() && head.back() == '\n');
  size_t pos = 0;
  while (pos < head.size()) {
    size_t nl = head.find('\n', pos);
    std::string_view line = std::string_view(head).substr(pos, nl - pos + 1);
    FUZZ_CHECK(line.size() >= 2 && line != "\r\n");
    FUZZ_CHECK(line[0] == ' ' || line[0] == '\t' ? pos > 0 : starts_field(line));
    pos = nl + 1;
  }
  clean_address(h.sender());
  for (std::string const& a : h.recipients()) {
    clean_address(a);
    FUZZ_CHECK(!a.empty());
  }
  if (opt.queue) FUZZ_CHECK(!h.recipients().empty());
  return 0;
}
