// ISC license.
#include "remote/body.h"

namespace qf::remote {

void BodyEncoder::feed(std::string_view in, std::string* out) {
  size_t i = 0, n = in.size();
  while (i < n) {
    if (cr_) {
      out->append("\r\n", 2);
      bol_ = true;
      cr_ = false;
      if (in[i] == '\n') {
        i++;
        continue;
      }
    }
    if (bol_ && in[i] == '.') out->push_back('.');
    // Copy the run of ordinary bytes up to the next line end in one go.
    size_t j = i;
    while (j < n && in[j] != '\n' && in[j] != '\r') j++;
    out->append(in.data() + i, j - i);
    if (j > i) bol_ = false;
    if (j == n) break;
    if (in[j] == '\n') {
      out->append("\r\n", 2);
      bol_ = true;
    } else {
      cr_ = true;
    }
    i = j + 1;
  }
}

void BodyEncoder::finish(std::string* out) {
  if (cr_ || !bol_) out->append("\r\n", 2);
  cr_ = false;
  bol_ = true;
  out->append(".\r\n", 3);
}

void BodyScanner::feed(std::string_view in) {
  for (char c : in) {
    if (cr_) {
      info_.size += 2;
      cr_ = false;
      bol_ = true;
      if (c == '\n') continue;
    }
    if ((unsigned char)c >= 128) info_.eightbit = true;
    if (c == '\n') {
      info_.size += 2;
      bol_ = true;
    } else if (c == '\r') {
      cr_ = true;
    } else {
      info_.size++;
      bol_ = false;
    }
  }
}

BodyInfo BodyScanner::finish() {
  if (cr_ || !bol_) info_.size += 2;
  cr_ = false;
  bol_ = true;
  return info_;
}

bool decode_body(std::string_view wire, std::string* out) {
  out->clear();
  size_t i = 0;
  for (;;) {
    size_t e = wire.find("\r\n", i);
    if (e == std::string_view::npos) return false;
    std::string_view line = wire.substr(i, e - i);
    if (line.find('\r') != std::string_view::npos || line.find('\n') != std::string_view::npos)
      return false;
    i = e + 2;
    if (line == ".") return i == wire.size();
    if (!line.empty() && line[0] == '.') {
      if (line.size() < 2 || line[1] != '.') return false;  // unstuffed dot
      line.remove_prefix(1);
    }
    out->append(line);
    out->push_back('\n');
  }
}

std::string normalise_body(std::string_view in) {
  std::string s;
  for (size_t i = 0; i < in.size(); i++) {
    if (in[i] == '\r') {
      s.push_back('\n');
      if (i + 1 < in.size() && in[i + 1] == '\n') i++;
    } else {
      s.push_back(in[i]);
    }
  }
  if (!s.empty() && s.back() != '\n') s.push_back('\n');
  return s;
}

}  // namespace qf::remote
