// ISC license.
// todo-proc: turns committed messages (todo/N) into pre-processed ones (info/N,
// local/N, remote/N), in batches with one group commit per batch, then has its
// qmail-clean remove intd/N and todo/N and tells qmail-send. See todo-proc(8).
#ifndef QF_TODO_TODO_H
#define QF_TODO_TODO_H

#include <cstdint>
#include <deque>
#include <string>
#include <unordered_set>
#include <vector>

#include "multi/ipc.h"
#include "queue/layout.h"
#include "addr/rewrite.h"
#include "sys/fd.h"
#include "sys/groupsync.h"
#include "sys/loop.h"

namespace qf::todo {

/// Fds: 0 commands from qmail-send, 1 records to qmail-send, 2 requests to its
/// qmail-clean, 3 answers from it.
class TodoProc {
 public:
  explicit TodoProc(queue::Layout q) : q_(std::move(q)) {}
  /// Runs until qmail-send says X or goes away. Returns the exit code.
  int run();

  /// Seconds between scans of todo/ when nothing pulls the trigger.
  static constexpr int kScanInterval = 60;
  /// Messages pre-processed per group commit.
  static constexpr size_t kBatch = 64;

 private:
  struct Done {
    uint64_t id;
    char kind;  // L R B X
    std::vector<std::string> log;
  };
  void log(std::string const& line);
  void record(char type, std::string const& body);
  void scan();
  void process_batch();
  bool preprocess(uint64_t id, GroupSync* gs, Done* done);
  void quarantine(uint64_t id, std::string const& why);
  bool clean(std::vector<uint64_t> const& ids, std::vector<char>* answers);
  void handle_command(char c);
  void drain_trigger();
  void drain_notes();

  multi::Shm shm_;
  multi::QueueSlot* slot_ = nullptr;
  int mq_ = -1;  // new-message notes from qmail-queue (a message queue descriptor)

  queue::Layout q_;
  addr::Rewriter rw_;
  OutQueue out_{1};
  Fd trigger_;
  std::deque<uint64_t> pending_;
  std::unordered_set<uint64_t> queued_;
  std::unordered_set<uint64_t> announced_;  // pre-processed; waiting for todo/N to go
  std::vector<Done> unclean_;               // todo/N could not be removed: retry, then announce
  int64_t next_clean_retry_ = 0;
  int exitcode_ = 0;
  void retry_clean();
  bool exit_ = false;
  // The queue's journal orders data before later changes (journal_orders_data):
  // a batch is written out, not fsynced; the commit that holds its todo/
  // removals makes it durable (todo-proc(8), PRE-PROCESSING).
  bool ordered_ = false;
  bool scan_now_ = true;
  char arg_open_ = 0;  // inside a request with an argument: its letter (R H U Q E S)
  std::string flush_;
  int64_t next_scan_ = 0;
};

}  // namespace qf::todo

#endif
