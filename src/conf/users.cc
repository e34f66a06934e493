// ISC license.
#include "conf/users.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <unistd.h>

#include <string_view>
#include <vector>

#include "conf/auto.h"
#include "sys/fs.h"

namespace qf::conf {

char const* user_name(User u) { return auto_users[int(u)]; }
char const* group_name(Group g) { return auto_groups[int(g)]; }

bool use_setgroups_for(std::string const& user) {
  char const* sg = getenv("USE_SETGROUPS");
  if (!sg || !*sg) return false;
  std::string v(sg);
  if (v.find_first_not_of("0123456789") == std::string::npos)
    return v.find_first_not_of('0') != std::string::npos;
  return (":" + v + ":").find(":" + user + ":") != std::string::npos;
}

bool privileged() {
  if (geteuid() != 0) return false;
  char const* e = getenv("QFLEET_EMBEDDED");
  return !(e && *e && !(e[0] == '0' && !e[1]));
}

namespace {

bool use_qpwgr() {
  char const* s = getenv("USE_QPWGR");
  return s && *s;
}

// Splits one colon-separated line into fields.
std::vector<std::string_view> fields(std::string_view line) {
  std::vector<std::string_view> f;
  size_t start = 0;
  for (;;) {
    size_t c = line.find(':', start);
    if (c == std::string_view::npos) {
      f.push_back(line.substr(start));
      return f;
    }
    f.push_back(line.substr(start, c - start));
    start = c + 1;
  }
}

// Our own passwd reader: name:pw:uid:gid:gecos:home:shell. Matches by name or uid.
bool qpw_find(char const* name, uid_t const* uid, Account* out) {
  std::string data;
  if (!read_file("/etc/passwd", &data, 64 << 20)) return false;
  size_t pos = 0;
  while (pos < data.size()) {
    size_t nl = data.find('\n', pos);
    if (nl == std::string::npos) nl = data.size();
    std::string_view line(data.data() + pos, nl - pos);
    pos = nl + 1;
    auto f = fields(line);
    if (f.size() < 7) continue;
    uint64_t u, g;
    if (!scan_u64(f[2], &u) || !scan_u64(f[3], &g)) continue;
    if (name ? f[0] != name : uid_t(u) != *uid) continue;
    out->name = std::string(f[0]);
    out->uid = uid_t(u);
    out->gid = gid_t(g);
    out->home = std::string(f[5]);
    out->shell = std::string(f[6]);
    return true;
  }
  errno = 0;
  return false;
}

bool from_passwd(struct passwd const* pw, Account* out) {
  if (!pw) return false;
  out->name = pw->pw_name;
  out->uid = pw->pw_uid;
  out->gid = pw->pw_gid;
  out->home = pw->pw_dir ? pw->pw_dir : "";
  out->shell = pw->pw_shell ? pw->pw_shell : "";
  return true;
}

}  // namespace

bool find_user(char const* name, Account* out) {
  if (use_qpwgr()) return qpw_find(name, nullptr, out);
  errno = 0;
  return from_passwd(getpwnam(name), out);
}

bool find_uid(uid_t uid, Account* out) {
  if (use_qpwgr()) return qpw_find(nullptr, &uid, out);
  errno = 0;
  return from_passwd(getpwuid(uid), out);
}

bool find_group(char const* name, gid_t* out) {
  if (use_qpwgr()) {
    std::string data;
    if (!read_file("/etc/group", &data, 64 << 20)) return false;
    size_t pos = 0;
    while (pos < data.size()) {
      size_t nl = data.find('\n', pos);
      if (nl == std::string::npos) nl = data.size();
      auto f = fields(std::string_view(data.data() + pos, nl - pos));
      pos = nl + 1;
      uint64_t g;
      if (f.size() >= 3 && f[0] == name && scan_u64(f[2], &g)) {
        *out = gid_t(g);
        return true;
      }
    }
    errno = 0;
    return false;
  }
  errno = 0;
  struct group* gr = getgrnam(name);
  if (!gr) return false;
  *out = gr->gr_gid;
  return true;
}

}  // namespace qf::conf
