// ISC license.
// users/assign (deliver/usermap.h): the assignment table qmail-lspawn reads,
// and qmail-getpw's rules over a password database. Input: assign text NUL
// local part NUL local part ...; the password database answers from the
// lower-cased names found in the assign text's user fields.
// max_len: 2048 (tests/fuzz/run passes it to libFuzzer)
#include <string>
#include <vector>

#include "deliver/usermap.h"
#include "fuzz.h"

using qf::deliver::Passwd;
using qf::deliver::UserMapping;

namespace {

bool suffix(std::string_view s, std::string_view end) {
  return s.size() >= end.size() && s.substr(s.size() - end.size()) == end;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(uint8_t const* data, size_t size) {
  std::string_view in(reinterpret_cast<char const*>(data), size);
  std::string_view text = qf::fuzz::take_until_nul(&in);
  std::vector<std::string> locals;
  while (!in.empty()) locals.emplace_back(qf::fuzz::take_until_nul(&in));

  qf::deliver::Assignments table;
  std::string err;
  bool ok = table.parse(text, &err);
  if (!ok) FUZZ_CHECK(table.size() == 0 && !err.empty());
  for (auto const& l : locals) {
    UserMapping m;
    if (!table.lookup(l, &m)) continue;
    FUZZ_CHECK(!m.user.empty() && !m.home.empty() && m.home[0] == '/');
    FUZZ_CHECK(m.uid != uid_t(-1) && m.gid != gid_t(-1));
  }

  // qmail-getpw: every user of the table exists, uid = its line number (0 for
  // the first: root is never chosen), home owned by that uid unless it ends in "x".
  Passwd pw;
  pw.user = [&](std::string const& name, qf::conf::Account* a) {
    if (name.size() > qf::deliver::kMaxUserName) __builtin_trap();
    size_t pos = 0, n = 0;
    std::string_view t = text;
    while (pos < t.size()) {
      size_t nl = t.find('\n', pos);
      std::string_view line = t.substr(pos, nl - pos);
      pos = nl == std::string_view::npos ? t.size() : nl + 1;
      size_t c1 = line.find(':');
      if (c1 == std::string_view::npos) continue;
      size_t c2 = line.find(':', c1 + 1);
      std::string_view user = line.substr(c1 + 1, c2 == std::string_view::npos ? c2 : c2 - c1 - 1);
      if (user == name) {
        a->name = std::string(user);
        a->uid = uid_t(n);
        a->gid = 1;
        a->home = "/home/" + std::string(user);
        return Passwd::Found::yes;
      }
      n++;
    }
    return Passwd::Found::no;
  };
  pw.home_owner = [&](std::string const& path, uid_t* owner) {
    if (!path.empty() && path.back() == 'x') return Passwd::Found::no;
    // The home of the user whose uid we gave: find it again.
    qf::conf::Account a;
    if (pw.user(path.substr(6), &a) != Passwd::Found::yes) return Passwd::Found::no;
    *owner = a.uid;
    return Passwd::Found::yes;
  };
  for (auto const& l : locals) {
    UserMapping m;
    std::string why;
    if (!qf::deliver::map_getpw(l, pw, &m, &why)) {
      FUZZ_CHECK(!why.empty());
      continue;
    }
    FUZZ_CHECK(m.dash.empty() || m.dash == "-");
    if (m.user == qf::conf::user_name(qf::conf::User::alias) && m.ext == l) continue;
    FUZZ_CHECK(m.uid != 0);
    FUZZ_CHECK(suffix(l, m.ext));
    FUZZ_CHECK(m.dash.empty() == (m.user.size() == l.size()));
  }
  return 0;
}
