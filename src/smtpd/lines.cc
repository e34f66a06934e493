// ISC license.
#include "smtpd/lines.h"

#include <cstring>

namespace qf::smtpd {

namespace {

// Length of the run at the front of [p, e) holding neither CR nor LF.
size_t plain_run(char const* p, char const* e) {
  char const* q = p;
  while (q < e && *q != '\r' && *q != '\n') ++q;
  return size_t(q - p);
}

}  // namespace

Event CommandReader::next(std::string_view* in) {
  if (done_) {
    line_.clear();
    overflow_ = false;
    done_ = false;
  }
  while (!in->empty()) {
    if (cr_) {
      if (in->front() != '\n') return Event::bare_cr;
      in->remove_prefix(1);
      cr_ = false;
      done_ = true;
      return overflow_ ? Event::too_long : Event::line;
    }
    size_t n = plain_run(in->data(), in->data() + in->size());
    if (n > 0) {
      size_t room = max_ - line_.size();
      if (n > room) overflow_ = true;
      line_.append(in->data(), n < room ? n : room);
      in->remove_prefix(n);
      continue;
    }
    if (in->front() == '\n') return Event::bare_lf;
    cr_ = true;
    in->remove_prefix(1);
  }
  return Event::need_more;
}

Event DataDecoder::next(std::string_view* in, std::string* out) {
  char const* p = in->data();
  char const* const e = p + in->size();
  Event ev = Event::need_more;
  while (p < e && ev == Event::need_more) {
    char c = *p;
    switch (state_) {
      case State::bol:
        if (c == '.') {
          state_ = State::dot;
          ++p;
          break;
        }
        [[fallthrough]];
      case State::mid: {
        size_t n = plain_run(p, e);
        if (n > 0) {
          out->append(p, n);
          p += n;
          state_ = State::mid;
          break;
        }
        if (c == '\n') {
          ev = Event::bare_lf;
          break;
        }
        state_ = State::cr;
        ++p;
        break;
      }
      case State::cr:
        if (c != '\n') {
          ev = Event::bare_cr;
          break;
        }
        out->push_back('\n');
        state_ = State::bol;
        ++p;
        break;
      case State::dot:
        if (c == '\r') {
          state_ = State::dot_cr;
          ++p;
        } else if (c == '\n') {
          ev = Event::bare_lf;
        } else {
          state_ = State::mid;  // the stuffed dot is dropped; c starts the line's text
        }
        break;
      case State::dot_cr:
        if (c != '\n') {
          ev = Event::bare_cr;
          break;
        }
        ++p;
        ev = Event::end;
        break;
    }
  }
  in->remove_prefix(size_t(p - in->data()));
  return ev;
}

void HopCounter::feed(std::string_view s) {
  for (char c : s) {
    if (!in_header_) return;
    if (c == '\n') {
      if (pos_ == 0) in_header_ = false;
      pos_ = 0;
      continue;
    }
    if (pos_ >= sizeof head_) continue;  // past every prefix we look for
    head_[pos_++] = (c >= 'A' && c <= 'Z') ? char(c - 'A' + 'a') : c;
    if (pos_ == 9 && std::memcmp(head_, "received:", 9) == 0) ++hops_;
    if (pos_ == 13 && std::memcmp(head_, "delivered-to:", 13) == 0) ++hops_;
  }
}

}  // namespace qf::smtpd
