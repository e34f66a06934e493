// ISC license.
#include "remote/reply.h"

#include <strings.h>

namespace qf::remote {

namespace {
constexpr size_t kMaxLine = 1024;  // bytes of one line kept for parsing and text
}

ReplyParser::Status ReplyParser::feed(char const* data, size_t n, size_t* used) {
  size_t i = 0;
  while (i < n) {
    char ch = data[i++];
    if (++bytes_ > kMaxBytes) {
      error_ = "reply too long";
      *used = i;
      return Status::bad;
    }
    if (ch != '\n') {
      if (line_len_++ < kMaxLine) line_.push_back(ch);
      continue;
    }
    Status st = line_done();
    if (st != Status::more) {
      *used = i;
      return st;
    }
  }
  *used = i;
  return Status::more;
}

ReplyParser::Status ReplyParser::line_done() {
  if (!line_.empty() && line_.back() == '\r' && line_len_ <= kMaxLine) line_.pop_back();
  std::string line = std::move(line_);
  line_.clear();
  line_len_ = 0;
  if (++lines_ > kMaxLines) {
    error_ = "reply has too many lines";
    return Status::bad;
  }
  if (line.size() < 3 || line[0] < '2' || line[0] > '5' || line[1] < '0' || line[1] > '9' ||
      line[2] < '0' || line[2] > '9' || (line.size() > 3 && line[3] != ' ' && line[3] != '-')) {
    error_ = "malformed reply";
    return Status::bad;
  }
  int code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
  if (!cur_.code) cur_.code = code;
  for (char& c : line)
    if ((unsigned char)c < 32 || c == 127) c = '?';  // NUL, CR, escapes: never into logs
  if (cur_.text.size() < kMaxText) {
    cur_.text.append(line, 0, kMaxText - 1 - cur_.text.size());  // and the newline
    cur_.text.push_back('\n');
  }
  if (line.size() > 3 && line[3] == '-') return Status::more;
  lines_ = 0;
  bytes_ = 0;
  return Status::reply;
}

Reply ReplyParser::take() {
  Reply r = std::move(cur_);
  cur_ = Reply();
  return r;
}

Extensions parse_ehlo(Reply const& r) {
  Extensions e;
  e.esmtp = r.code == 250;
  if (!e.esmtp) return e;
  size_t pos = r.text.find('\n');
  while (pos != std::string::npos && pos + 1 < r.text.size()) {
    size_t end = r.text.find('\n', pos + 1);
    std::string line = r.text.substr(pos + 1, end - pos - 1);
    pos = end;
    if (line.size() < 4) continue;
    std::string kw = line.substr(4);
    std::string arg;
    if (size_t sp = kw.find(' '); sp != std::string::npos) {
      arg = kw.substr(sp + 1);
      kw.resize(sp);
    }
    if (!strcasecmp(kw.c_str(), "PIPELINING")) e.pipelining = true;
    if (!strcasecmp(kw.c_str(), "8BITMIME")) e.eightbitmime = true;
    if (!strcasecmp(kw.c_str(), "SIZE")) {
      e.size = true;
      unsigned long long v = 0;
      size_t k = 0;
      while (k < arg.size() && arg[k] >= '0' && arg[k] <= '9' && v < (1ULL << 50))
        v = v * 10 + unsigned(arg[k++] - '0');
      e.size_limit = v;
    }
  }
  return e;
}

}  // namespace qf::remote
