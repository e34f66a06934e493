// ISC license.
// The qfleet users and groups (conf-users, conf-groups) and account lookups.
#ifndef QF_CONF_USERS_H
#define QF_CONF_USERS_H

#include <sys/types.h>

#include <string>

namespace qf::conf {

/// Roles in conf-users order.
enum class User { alias, qmaild, qmaill, root, qmailp, qmailq, qmailr, qmails };
/// Roles in conf-groups order.
enum class Group { qmail, nofiles };

char const* user_name(User);
char const* group_name(Group);

struct Account {
  std::string name;
  uid_t uid = 0;
  gid_t gid = 0;
  std::string home;
  std::string shell;
};

/// Looks up a user by name: getpwnam(3), or with $USE_QPWGR set our own reader
/// of /etc/passwd (no NSS). False with errno 0 when there is no such user.
bool find_user(char const* name, Account* out);
/// The same by uid.
bool find_uid(uid_t uid, Account* out);
/// Looks up a group id by name (getgrnam or /etc/group under $USE_QPWGR).
bool find_group(char const* name, gid_t* out);

/// The account of a qfleet role.
inline bool find_user(User u, Account* out) { return find_user(user_name(u), out); }
inline bool find_group(Group g, gid_t* out) { return find_group(group_name(g), out); }

/// USE_SETGROUPS: a number other than 0 gives every user its supplementary
/// groups; a colon-separated list of names gives them to the users named.
bool use_setgroups_for(std::string const& user);

/// True when this process can take other identities: effective uid 0 and
/// QFLEET_EMBEDDED not set. Otherwise every daemon runs as the invoking user
/// (the embedded default; QFLEET_EMBEDDED=1 asks for it even as root).
bool privileged();

}  // namespace qf::conf

#endif
