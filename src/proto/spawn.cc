// ISC license.
#include "proto/spawn.h"

#include <cstring>

#include "sys/fs.h"

namespace qf::spawn {

void encode(Command const& c, std::string* out) {
  out->push_back(char(c.slot & 255));
  out->push_back(char(c.slot >> 8));
  out->append(fmt_u64(c.id));
  out->push_back('\0');
  out->append(c.sender);
  out->push_back('\0');
  for (auto const& r : c.rcpts) {
    out->append(r);
    out->push_back('\0');
  }
  out->push_back('\0');
}

void encode_report(unsigned slot, Verdict v, std::vector<Result> const& results, std::string* out) {
  out->push_back(char(slot & 255));
  out->push_back(char(slot >> 8));
  out->push_back(char(v));
  for (auto const& r : results) {
    out->push_back(r.status);
    size_t n = r.text.size() < kMaxReport ? r.text.size() : kMaxReport;
    for (size_t i = 0; i < n; i++) out->push_back(r.text[i] ? r.text[i] : ' ');
    out->push_back('\0');
  }
}

std::string encode_slots(unsigned slots) {
  std::string s;
  s.push_back(char(slots & 255));
  s.push_back(char(slots >> 8));
  return s;
}

CommandReader::Status CommandReader::feed(char const* data, size_t n, size_t* used) {
  size_t i = 0;
  while (i < n) {
    char ch = data[i++];
    switch (st_) {
      case St::slot0:
        cur_ = Command();
        cur_.slot = (unsigned char)ch;
        st_ = St::slot1;
        break;
      case St::slot1:
        cur_.slot |= unsigned((unsigned char)ch) << 8;
        st_ = St::id;
        field_.clear();
        break;
      default:
        if (ch) {
          if (field_.size() >= kMaxAddress) {
            *used = i;
            return Status::bad;
          }
          field_.push_back(ch);
          break;
        }
        if (st_ == St::id) {
          if (!scan_u64(field_, &cur_.id)) {
            *used = i;
            return Status::bad;
          }
          st_ = St::sender;
        } else if (st_ == St::sender) {
          cur_.sender = std::move(field_);
          st_ = St::rcpt;
        } else if (field_.empty()) {
          st_ = St::slot0;
          *used = i;
          return cur_.rcpts.empty() ? Status::bad : Status::command;
        } else {
          if (cur_.rcpts.size() >= kMaxRecipients) {
            *used = i;
            return Status::bad;
          }
          cur_.rcpts.push_back(std::move(field_));
        }
        field_.clear();
    }
  }
  *used = i;
  return Status::more;
}

ReportReader::Status ReportReader::feed(char const* data, size_t n, size_t* used) {
  size_t i = 0;
  while (i < n) {
    char ch = data[i++];
    switch (st_) {
      case 0:
        slot_ = (unsigned char)ch;
        st_ = 1;
        break;
      case 1:
        slot_ |= unsigned((unsigned char)ch) << 8;
        want_ = expected_(slot_);
        if (!want_) {
          *used = i;
          return Status::bad;
        }
        results_.clear();
        st_ = 4;
        break;
      case 4:
        if (ch != char(Verdict::ok) && ch != char(Verdict::site) && ch != char(Verdict::none) &&
            ch != char(Verdict::crash)) {
          *used = i;
          return Status::bad;
        }
        verdict_ = Verdict(ch);
        st_ = 2;
        break;
      case 2:
        cur_ = Result();
        cur_.status = ch;
        st_ = 3;
        break;
      case 3:
        if (ch) {
          if (cur_.text.size() < kMaxReport) cur_.text.push_back(ch);
          break;
        }
        results_.push_back(std::move(cur_));
        if (results_.size() == want_) {
          st_ = 0;
          *used = i;
          return Status::report;
        }
        st_ = 2;
    }
  }
  *used = i;
  return Status::more;
}

}  // namespace qf::spawn
