// ISC license.
#include "deliver/usermap.h"

#include <errno.h>

#include <cstring>
#include <vector>

#include "addr/address.h"
#include "deliver/lines.h"
#include "sys/fs.h"

namespace qf::deliver {

namespace {

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> f;
  for (;;) {
    size_t c = s.find(sep);
    f.push_back(s.substr(0, c));
    if (c == std::string_view::npos) return f;
    s.remove_prefix(c + 1);
  }
}

// Errors after which a later try may succeed (qmail's error_temp).
bool is_temporary(int err) {
  switch (err) {
    case EINTR: case ENOMEM: case EIO: case ETIMEDOUT: case ESTALE: case EAGAIN:
    case ENFILE: case EMFILE: case ETXTBSY: case ENOLCK: case ENOBUFS:
      return true;
  }
  return false;
}

bool parse_line(std::string_view line, std::string* key, UserMapping* m, std::string* why) {
  auto f = split(line.substr(1), ':');
  if (f.size() == 8 && f[7].empty()) f.pop_back();
  if (f.size() != 7) {
    *why = "want 7 fields separated by ':', got " + fmt_u64(f.size());
    return false;
  }
  uint64_t uid, gid;
  if (!scan_u64(f[2], &uid) || uid > 0xfffffffe) {
    *why = "bad uid";
    return false;
  }
  if (!scan_u64(f[3], &gid) || gid > 0xfffffffe) {
    *why = "bad gid";
    return false;
  }
  if (f[1].empty()) {
    *why = "empty user name";
    return false;
  }
  if (f[4].empty() || f[4][0] != '/') {
    *why = "home directory is not an absolute path";
    return false;
  }
  *key = addr::lower(f[0]);
  m->user = std::string(f[1]);
  m->uid = uid_t(uid);
  m->gid = gid_t(gid);
  m->home = std::string(f[4]);
  m->dash = std::string(f[5]);
  m->ext = std::string(f[6]);
  return true;
}

}  // namespace

bool Assignments::parse(std::string_view text, std::string* err) {
  exact_.clear();
  wild_.clear();
  longest_prefix_ = 0;
  size_t lineno = 0;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    lineno++;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty() || line[0] == '#') continue;
    if (line == ".") return true;
    std::string key, why;
    UserMapping m;
    if ((line[0] != '=' && line[0] != '+') || !parse_line(line, &key, &m, &why)) {
      if (why.empty()) why = "a line must start with '=', '+' or be '.'";
      *err = "line " + fmt_u64(lineno) + ": " + why;
      exact_.clear();
      wild_.clear();
      return false;
    }
    // As with qmail-newu's cdb, the first assignment of a key wins.
    if (line[0] == '=') {
      exact_.emplace(std::move(key), std::move(m));
    } else {
      if (key.size() > longest_prefix_) longest_prefix_ = key.size();
      wild_.emplace(std::move(key), std::move(m));
    }
  }
  return true;
}

bool Assignments::lookup(std::string_view local, UserMapping* out) const {
  std::string lower = addr::lower(local);
  if (auto it = exact_.find(lower); it != exact_.end()) {
    *out = it->second;
    return true;
  }
  if (wild_.empty()) return false;
  size_t n = lower.size() < longest_prefix_ ? lower.size() : longest_prefix_;
  for (size_t i = n + 1; i-- > 0;) {
    auto it = wild_.find(lower.substr(0, i));
    if (it == wild_.end()) continue;
    *out = it->second;
    out->ext += local.substr(i);
    return true;
  }
  return false;
}

bool AssignFile::refresh(std::string* err) {
  struct stat st;
  if (::stat(path_.c_str(), &st) < 0) {
    if (errno != ENOENT && errno != ENOTDIR) {
      *err = "unable to stat " + path_ + ": " + std::strerror(errno);
      loaded_ = false;
      return false;
    }
    if (!loaded_ || present_) table_.parse("", err);
    loaded_ = true;
    present_ = false;
    return true;
  }
  if (loaded_ && present_ && st.st_dev == st_.st_dev && st.st_ino == st_.st_ino &&
      st.st_size == st_.st_size && st.st_mtim.tv_sec == st_.st_mtim.tv_sec &&
      st.st_mtim.tv_nsec == st_.st_mtim.tv_nsec && st.st_ctim.tv_sec == st_.st_ctim.tv_sec &&
      st.st_ctim.tv_nsec == st_.st_ctim.tv_nsec)
    return true;
  loaded_ = false;
  std::string text, why;
  if (!read_file(path_.c_str(), &text, 256u << 20)) {
    *err = "unable to read " + path_ + ": " + std::strerror(errno);
    return false;
  }
  if (!table_.parse(text, &why)) {
    *err = "unable to parse " + path_ + ": " + why;
    return false;
  }
  st_ = st;
  loaded_ = present_ = true;
  return true;
}

Passwd system_passwd() {
  Passwd p;
  p.user = [](std::string const& name, conf::Account* out) {
    errno = 0;
    if (conf::find_user(name.c_str(), out)) return Passwd::Found::yes;
    return is_temporary(errno) ? Passwd::Found::error : Passwd::Found::no;
  };
  p.home_owner = [](std::string const& path, uid_t* owner) {
    struct stat st;
    if (::stat(path.c_str(), &st) == 0) {
      *owner = st.st_uid;
      return Passwd::Found::yes;
    }
    return is_temporary(errno) ? Passwd::Found::error : Passwd::Found::no;
  };
  return p;
}

bool map_getpw(std::string_view local, Passwd const& pw, UserMapping* out, std::string* err) {
  size_t longest = local.size() < kMaxUserName ? local.size() : kMaxUserName - 1;
  for (size_t end = longest; end > 0; end--) {
    if (end != local.size() && local[end] != '-') continue;
    conf::Account a;
    std::string name = addr::lower(local.substr(0, end));
    switch (pw.user(name, &a)) {
      case Passwd::Found::error:
        *err = "Unable to read the password database. (#4.3.0)";
        return false;
      case Passwd::Found::no:
        continue;
      case Passwd::Found::yes:
        break;
    }
    if (a.uid == 0) continue;
    uid_t owner;
    switch (pw.home_owner(a.home, &owner)) {
      case Passwd::Found::error:
        *err = "NFS failure in qmail-local: unable to stat " + a.home + ". (#4.3.0)";
        return false;
      case Passwd::Found::no:
        continue;
      case Passwd::Found::yes:
        break;
    }
    if (owner != a.uid) continue;
    out->user = a.name;
    out->uid = a.uid;
    out->gid = a.gid;
    out->home = a.home;
    out->dash = end == local.size() ? "" : "-";
    out->ext = end == local.size() ? std::string() : std::string(local.substr(end + 1));
    return true;
  }
  conf::Account a;
  switch (pw.user(conf::user_name(conf::User::alias), &a)) {
    case Passwd::Found::yes:
      break;
    case Passwd::Found::no:
      *err = "Unable to find alias user! (#4.3.0)";
      return false;
    case Passwd::Found::error:
      *err = "Unable to read the password database. (#4.3.0)";
      return false;
  }
  out->user = a.name;
  out->uid = a.uid;
  out->gid = a.gid;
  out->home = a.home;
  out->dash = "-";
  out->ext = std::string(local);
  return true;
}

}  // namespace qf::deliver
