// ISC license.
#include "admin/format.h"

#include <algorithm>
#include <cstdio>
#include <map>
#include <set>

#include "queue/status.h"
#include "sys/fs.h"
#include "sys/timefmt.h"

namespace qf::admin {

std::string fmt_age(int64_t s) {
  if (s < 0) s = 0;
  char b[32];
  if (s < 60)
    snprintf(b, sizeof b, "%llds", (long long)s);
  else if (s < 3600)
    snprintf(b, sizeof b, "%lldm", (long long)(s / 60));
  else if (s < 86400)
    snprintf(b, sizeof b, "%lldh%02lldm", (long long)(s / 3600), (long long)(s % 3600 / 60));
  else
    snprintf(b, sizeof b, "%lldd%02lldh", (long long)(s / 86400), (long long)(s % 86400 / 3600));
  return b;
}

namespace {

char const* channel_word(char c) { return c == 'L' ? "local" : c == 'R' ? "remote" : "new"; }

std::string gmt_date(time_t t) {
  std::string d = date822(t);  // "23 Nov 2026 14:23:06 -0000"
  if (d.size() > 6 && d.compare(d.size() - 6, 6, " -0000") == 0) d.resize(d.size() - 6);
  return d + " GMT";
}

}  // namespace

void qread_message(Message const& m, time_t now, std::string* out) {
  *out += m.birth ? gmt_date(m.birth) : std::string("?");
  *out += "  #";
  *out += fmt_u64(m.id);
  *out += "  ";
  *out += m.size_known ? fmt_u64(m.size) : std::string("?");
  *out += "  <";
  *out += m.sender_known ? queue::one_line(m.sender) : std::string("?");
  *out += ">";
  if (m.queue) {
    *out += "  queue";
    *out += fmt_u64(m.queue);
  }
  if (m.birth) {
    *out += "  age ";
    *out += fmt_age(int64_t(now - m.birth));
  }
  if (m.corrupt) *out += "  corrupt (" + m.corrupt_files + ")";
  if (m.held) *out += "  held";
  if (m.todo) *out += "  todo";
  if (m.bouncing) *out += "  bouncing";
  if (!m.corrupt && !m.todo && m.next_retry > now) *out += "  retry in " + fmt_age(int64_t(m.next_retry - now));
  *out += '\n';
  for (auto const& r : m.rcpts) {
    *out += '\t';
    *out += channel_word(r.channel);
    *out += '\t';
    *out += queue::one_line(r.addr);
    *out += '\n';
    if (r.status_when) {
      *out += "\t\tlast attempt ";
      *out += fmt_age(int64_t(now) - int64_t(r.status_when));
      *out += " ago: ";
      *out += queue::one_line(r.status);
      *out += '\n';
    }
  }
}

std::string escape_field(std::string_view s) {
  std::string r;
  r.reserve(s.size());
  for (unsigned char c : s) {
    if (c == '\\') r += "\\\\";
    else if (c == '\t') r += "\\t";
    else if (c == '\n') r += "\\n";
    else if (c < 32 || c == 127) {
      char b[8];
      snprintf(b, sizeof b, "\\x%02x", c);
      r += b;
    } else r.push_back(char(c));
  }
  return r;
}

void qread_lines(Message const& m, time_t now, std::string* out) {
  std::string head = fmt_u64(m.queue) + '\t' + fmt_u64(m.id) + '\t' + state_name(m.state(now)) + '\t' +
                     (m.birth ? fmt_u64(uint64_t(m.birth)) : "-") + '\t' +
                     (m.size_known ? fmt_u64(m.size) : "-") + '\t' +
                     (m.sender_known ? escape_field(m.sender) : "-") + '\t';
  if (m.rcpts.empty()) {
    *out += head + "-\t-\t-\t-\n";
    return;
  }
  for (auto const& r : m.rcpts) {
    *out += head;
    *out += channel_word(r.channel);
    *out += '\t';
    *out += escape_field(r.addr);
    *out += '\t';
    if (r.status_when) {
      *out += fmt_u64(r.status_when);
      *out += '\t';
      *out += escape_field(r.status);
    } else {
      *out += "-\t-";
    }
    *out += '\n';
  }
}

std::string shape_domain(std::string_view addr, bool sender) {
  if (sender && addr.empty()) return "MAILER-DAEMON";
  size_t at = addr.rfind('@');
  std::string d(at == std::string_view::npos ? std::string_view() : addr.substr(at + 1));
  for (char& c : d)
    if (c >= 'A' && c <= 'Z') c = char(c - 'A' + 'a');
  return d;
}

Shape shape(std::vector<Message> const& msgs, ShapeOptions const& o, time_t now) {
  Shape s;
  unsigned nb = std::max(2u, o.buckets);
  std::vector<uint64_t> bound;  // minutes: age < bound[i] -> bucket i
  uint64_t w = std::max(1u, o.width);
  for (unsigned i = 0; i + 1 < nb; i++) bound.push_back(w << i);
  s.header.push_back("T");
  for (uint64_t b : bound) s.header.push_back(fmt_u64(b));
  s.header.push_back(fmt_u64(bound.back()) + "+");
  auto bucket_of = [&](time_t birth) {
    uint64_t mins = birth && now > birth ? uint64_t(now - birth) / 60 : 0;
    for (size_t i = 0; i < bound.size(); i++)
      if (mins < bound[i]) return i;
    return bound.size();
  };
  s.total.name = "TOTAL";
  s.total.counts.assign(nb, 0);
  std::map<std::string, ShapeRow> rows;
  for (auto const& m : msgs) {
    if (std::find(o.states.begin(), o.states.end(), m.state(now)) == o.states.end()) continue;
    size_t b = bucket_of(m.birth);
    s.total.total++;
    s.total.counts[b]++;
    std::set<std::string> doms;
    if (o.by_sender)
      doms.insert(shape_domain(m.sender, true));
    else
      for (auto const& r : m.rcpts) doms.insert(shape_domain(r.addr, false));
    for (auto const& d : doms) {
      ShapeRow& row = rows[d];
      if (row.counts.empty()) {
        row.name = d.empty() ? "(none)" : d;
        row.counts.assign(nb, 0);
      }
      row.total++;
      row.counts[b]++;
    }
  }
  for (auto& [name, row] : rows) s.rows.push_back(std::move(row));
  std::stable_sort(s.rows.begin(), s.rows.end(),
                   [](ShapeRow const& a, ShapeRow const& b) { return a.total > b.total; });
  return s;
}

std::string shape_text(Shape const& s, unsigned top) {
  size_t nrows = top && top < s.rows.size() ? top : s.rows.size();
  size_t namew = 5;
  for (size_t i = 0; i < nrows; i++) namew = std::max(namew, s.rows[i].name.size());
  std::vector<size_t> colw;
  for (auto const& h : s.header) colw.push_back(h.size());
  auto widen = [&](ShapeRow const& r) {
    colw[0] = std::max(colw[0], fmt_u64(r.total).size());
    for (size_t i = 0; i < r.counts.size(); i++) colw[i + 1] = std::max(colw[i + 1], fmt_u64(r.counts[i]).size());
  };
  widen(s.total);
  for (size_t i = 0; i < nrows; i++) widen(s.rows[i]);
  auto pad = [](std::string const& v, size_t w) { return std::string(w > v.size() ? w - v.size() : 0, ' ') + v; };
  std::string out = pad("", namew);
  for (size_t i = 0; i < s.header.size(); i++) out += ' ' + pad(s.header[i], colw[i]);
  out += '\n';
  auto line = [&](ShapeRow const& r) {
    out += pad(r.name, namew) + ' ' + pad(fmt_u64(r.total), colw[0]);
    for (size_t i = 0; i < r.counts.size(); i++) out += ' ' + pad(fmt_u64(r.counts[i]), colw[i + 1]);
    out += '\n';
  };
  line(s.total);
  for (size_t i = 0; i < nrows; i++) line(s.rows[i]);
  return out;
}

}  // namespace qf::admin
