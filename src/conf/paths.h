// ISC license.
// Where things are at run time: the compiled-in home (conf-qmail) and the
// environment variables that move it. A setuid or setgid program ignores every
// variable that could move it outside its configured queue base.
#ifndef QF_CONF_PATHS_H
#define QF_CONF_PATHS_H

#include <string>

namespace qf::conf {

/// True when this process gained privileges at exec (a set-id program: real and
/// effective ids differed then); AT_SECURE, so it costs no system call.
bool running_setuid();

/// getenv(name), or nullptr when running setuid (trust nothing the caller sets).
char const* safe_env(char const* name);

/// $QMAILHOME, else conf-qmail.
std::string home();
/// $CONTROLDIR, else home()/control.
std::string control_dir();
/// $QUEUE_BASE, else home()/queue: the parent of the numbered queues queueN.
std::string queue_base();
/// The classic single queue: home()/queue.
std::string default_queue();
/// $CONFSPLIT clamped to 1..conf-split, else conf-split. Honoured even setuid.
unsigned split();
/// $BIGTODO set to a value other than "0": todo/ and intd/ are split too.
bool bigtodo();
/// Directory holding the running program (from /proc/self/exe), where its sibling
/// programs live. Falls back to home()/bin.
std::string bin_dir();
/// Full path of sibling program prog.
std::string program(char const* prog);

}  // namespace qf::conf

#endif
