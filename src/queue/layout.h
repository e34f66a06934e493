// ISC license.
// The queue layout (DESIGN.md §3): one table of directories with their owners
// and modes, and the only path builder. No program builds a queue path by hand.
//
//   pid/ intd/ todo/ mess/S/N info/S/N local/S/N remote/S/N bounce/ defer/S/N hold/ corrupt/ lock/
//
// defer/S/N is qmail-send's per-recipient status log (queue/status.h).
//
// S = N mod split. With BIGTODO, intd/ and todo/ are split too.
#ifndef QF_QUEUE_LAYOUT_H
#define QF_QUEUE_LAYOUT_H

#include <sys/types.h>

#include <cstdint>
#include <span>
#include <string>

#include "conf/users.h"

namespace qf::queue {

enum class Dir : uint8_t { pid, intd, todo, mess, info, local, remote, bounce, defer, hold, corrupt, lock };

enum class SplitKind : uint8_t { flat, split, bigtodo };

/// One queue directory: its name, owner, modes and whether it is split.
struct DirSpec {
  Dir dir;
  char const* name;
  conf::User owner;
  mode_t mode;       ///< mode of the directory (and of its split subdirectories)
  mode_t file_mode;  ///< mode of message files inside (0: not checked)
  SplitKind split;
};

/// One file in lock/.
struct LockSpec {
  char const* name;
  conf::User owner;
  mode_t mode;
  bool fifo;
  size_t size;  ///< zero bytes to write when created (tcpto)
};

/// Every queue directory, in creation order (the queue root itself is not listed).
std::span<DirSpec const> dir_specs();
DirSpec const& spec(Dir d);
/// Every file in lock/.
std::span<LockSpec const> lock_specs();
/// Owner and mode of the queue root. o+x (qmail has 0750) lets any client reach
/// qmail-queued's socket, <queue>/inject.sock; every subdirectory stays closed.
inline constexpr conf::User kRootOwner = conf::User::qmailq;
inline constexpr mode_t kRootMode = 0751;
/// The group of every queue directory and file.
inline constexpr conf::Group kGroup = conf::Group::qmail;

/// Where one queue lives and how it is split. Cheap to copy.
class Layout {
 public:
  Layout(std::string root, unsigned split, bool bigtodo);
  /// root with CONFSPLIT and BIGTODO from the environment.
  static Layout from_env(std::string root);

  std::string const& root() const { return root_; }
  unsigned split() const { return split_; }
  bool bigtodo() const { return bigtodo_; }
  /// Whether files of d live in N mod split subdirectories in this queue.
  bool is_split(Dir d) const;
  unsigned bucket(uint64_t id) const { return unsigned(id % split_); }

  /// root/name
  std::string dir(Dir d) const;
  /// root/name/n (a split subdirectory)
  std::string subdir(Dir d, unsigned n) const;
  /// The directory that holds file id of d: root/name or root/name/(id mod split).
  std::string dir_of(Dir d, uint64_t id) const;
  /// root/name[/id mod split]/id
  std::string path(Dir d, uint64_t id) const;
  /// name[/id mod split]/id, relative to the root (what the spawn protocols carry).
  std::string relpath(Dir d, uint64_t id) const;
  /// root/lock/name
  std::string lock(char const* name) const;
  /// root/pid/<pid>.<time>.<seq>: qmail-queue's private temporary name.
  std::string pid_file(pid_t pid, uint64_t time, unsigned seq) const;

 private:
  std::string root_;
  unsigned split_;
  bool bigtodo_;
};

/// True when the queue on disk has this layout's split (mess/split-1 exists,
/// mess/split does not) and BIGTODO setting (todo/0 exists iff bigtodo). Two or
/// three stats: cheap enough for every injection. A queue without mess/ passes
/// (the injection then fails on mess/ itself).
bool layout_matches(Layout const& q);

/// Which files of one message exist (lstat).
struct Presence {
  bool mess = false, intd = false, todo = false, info = false, local = false, remote = false,
       bounce = false;
};

/// The message states of qmail's INTERNALS (S1..S5); bad = no legal state.
enum class State { S1, S2, S3, S4, S5, bad };

/// Classifies a presence set: S1 none; S2 mess; S3 mess+intd; S4 mess+todo (committed);
/// S5 mess+info, no intd/todo (pre-processed). Anything else is bad.
State classify(Presence const& p);
char const* state_name(State s);
/// lstats every file of message id.
Presence probe(Layout const& q, uint64_t id);

}  // namespace qf::queue

#endif
