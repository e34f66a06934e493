// ISC license.
// Which user receives mail for a local part: qmail-users(5) assignments read
// from users/assign as text (no qmail-newu, no cdb), then qmail-getpw(8)'s
// rules over the password database. The mapping decides only who and where;
// switching to that user is qmail-lspawn's business (lspawn.h).
#ifndef QF_DELIVER_USERMAP_H
#define QF_DELIVER_USERMAP_H

#include <sys/stat.h>
#include <sys/types.h>

#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "conf/users.h"

namespace qf::deliver {

/// Where mail for one local part goes: qmail-local's user, home, dash, ext.
struct UserMapping {
  std::string user;
  uid_t uid = 0;
  gid_t gid = 0;
  std::string home;
  std::string dash;
  std::string ext;
};

/// The assignments of users/assign:
///   =local:user:uid:gid:home:dash:ext:   mail for local (exactly)
///   +prefix:user:uid:gid:home:dash:pre:  mail for prefix<anything>: ext = pre<anything>
///   .                                    the end (anything after it is ignored)
/// Local parts and prefixes compare without regard to ASCII case; an exact
/// assignment beats any wildcard, the longest wildcard prefix wins. Empty
/// lines and lines starting with '#' are ignored.
class Assignments {
 public:
  /// Replaces the table with text. False with *err ("line N: why") when a line
  /// is malformed; the table is then empty.
  bool parse(std::string_view text, std::string* err);
  /// Looks local up (as received: the wildcard tail keeps its case).
  bool lookup(std::string_view local, UserMapping* out) const;
  size_t size() const { return exact_.size() + wild_.size(); }

 private:
  std::unordered_map<std::string, UserMapping> exact_;
  std::unordered_map<std::string, UserMapping> wild_;  // ext holds pre
  size_t longest_prefix_ = 0;
};

/// users/assign, reread when it changes (mtime, ctime, size or inode).
class AssignFile {
 public:
  explicit AssignFile(std::string path) : path_(std::move(path)) {}
  /// Brings the table up to date. A missing file is an empty table. False
  /// with *err when the file cannot be read or parsed; the table is then
  /// unusable until the next successful refresh.
  bool refresh(std::string* err);
  Assignments const& table() const { return table_; }
  std::string const& path() const { return path_; }

 private:
  std::string path_;
  Assignments table_;
  bool loaded_ = false, present_ = false;
  struct stat st_ = {};
};

/// The account source for qmail-getpw's rules (a seam for tests).
struct Passwd {
  enum class Found { yes, no, error };
  /// The account named name (lowercase already).
  std::function<Found(std::string const& name, conf::Account* out)> user;
  /// The owner of directory path.
  std::function<Found(std::string const& path, uid_t* owner)> home_owner;
};

/// The system's: conf::find_user (which honours USE_QPWGR) and stat(2).
Passwd system_passwd();

/// Longest user name qmail-getpw tries.
inline constexpr size_t kMaxUserName = 32;

/// qmail-getpw's rules: the longest prefix of local ending at its end or
/// before a '-', lowercased, that names a user with uid != 0 whose home
/// exists and belongs to that user -> that user, dash "" (whole local) or
/// "-" and ext the rest; otherwise the alias user with dash "-" and ext =
/// local. False with *err when the password database or a home cannot be
/// read, or there is no alias user (a temporary failure).
bool map_getpw(std::string_view local, Passwd const& pw, UserMapping* out, std::string* err);

}  // namespace qf::deliver

#endif
