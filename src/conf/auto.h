// ISC license.
// Build-time settings, generated from the conf-* files into obj/auto.cc.
#ifndef QF_CONF_AUTO_H
#define QF_CONF_AUTO_H

namespace qf::conf {

extern char const* const auto_qmail;       ///< conf-qmail: the compiled-in home
extern unsigned const auto_split;          ///< conf-split: ceiling of CONFSPLIT
extern unsigned const auto_spawn;          ///< conf-spawn: delivery slots per spawner
extern char const* const auto_users[8];    ///< conf-users, in role order (see users.h)
extern char const* const auto_groups[2];   ///< conf-groups: qmail, nofiles

}  // namespace qf::conf

#endif
