// ISC license.
// One remote delivery: a message, a sender and recipients of one domain, to
// wherever route.h sends them, over a connection this Deliverer may keep for
// the next delivery to the same destination (connection reuse, DESIGN.md §6).
// Shared by qmail-remote (one delivery, then exit) and qmail-rspawn's workers
// (many deliveries, one cached connection each).
#ifndef QF_REMOTE_DELIVER_H
#define QF_REMOTE_DELIVER_H

#include <sys/stat.h>

#include <ctime>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "conf/control.h"
#include "proto/spawn.h"
#include "remote/route.h"
#include "remote/smtp.h"
#include "remote/tcpto.h"

namespace qf::remote {

/// The control files of remote delivery (qmail-remote(8), qmail-rspawn(8)).
struct Config {
  std::string me;    ///< me (default: the host name)
  std::string helo;  ///< helohost (default: me)
  Timeouts timeouts;  ///< timeoutconnect, timeoutremote
  Routes routes;      ///< smtproutes
  SelfCheck self;     ///< me, locals, our addresses
  unsigned cache_time = 5;     ///< connectioncachetimelimit: idle seconds a connection is kept
  unsigned reuse_count = 100;  ///< connectionreusecountlimit: transactions per connection
  unsigned reuse_time = 300;   ///< connectionreusetimelimit: seconds a connection is reused
  /// Reads the control files. False with errno when one cannot be read.
  bool load();
};

/// Config, reloaded when a control file it read changes (refresh() stats the
/// files at most once a second, so callers refresh per delivery).
class ConfigCache {
 public:
  /// False with errno when a changed file cannot be read (the old config stays).
  bool refresh();
  Config const& get() const { return cfg_; }
  /// Bumped on every reload.
  unsigned generation() const { return gen_; }

 private:
  Config cfg_;
  conf::ControlStamps seen_;
  unsigned gen_ = 0;
  bool loaded_ = false;
  int64_t checked_ms_ = 0;
};

/// A job's message: opened and scanned once, shared by its domains.
struct OpenMessage {
  MessageSource src;
  bool ok = false;
  std::string error;  ///< Z text when !ok
};

/// The destination key of a domain (route.h Route::key) under cfg.
std::string destination_key(Config const& cfg, std::string const& domain);

class Deliverer {
 public:
  explicit Deliverer(std::string tcpto_path);
  ~Deliverer();
  /// Delivers msg to rcpts, routed as domain (qmail-remote's host argument;
  /// qmail-rspawn gives the recipients' common domain). o->rcpts gets one
  /// entry per recipient.
  void deliver(Config const& cfg, std::string const& domain, MessageSource const& msg,
               std::string const& sender, std::vector<std::string> const& rcpts, Outcome* o);
  /// The destination key of the cached connection, "" when none.
  std::string const& cached_key() const { return key_; }
  /// QUITs and closes the cached connection, if any.
  void drop();

 private:
  bool connect_first(Config const& cfg, Resolution const& res, std::string* why);
  std::unique_ptr<Session> session_;
  std::string key_;
  time_t opened_ = 0;
  tcpto::File tcpto_;
  Resolver dns_;
  std::mt19937 rng_;
};

/// qmail-rspawn's per-recipient report for an outcome: s -> Z, h -> D with the
/// recipient's text; r and unanswered recipients take the message status and text.
std::vector<spawn::Result> per_recipient(Outcome const& o);

/// qmail-remote's output (qmail-remote(8)): r/h/s per answered recipient, then
/// K/Z/D, each NUL-terminated.
std::string remote_output(Outcome const& o);

}  // namespace qf::remote

#endif
