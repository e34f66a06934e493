// ISC license.
// qmail-clean's work: remove queue files on request, building every path from
// a numeric id itself (it never trusts a path from its peer).
//
//   foop/N  remove intd/N and mess/N   (qmail-send: a finished message)
//   todo/N  remove intd/N and todo/N   (todo-proc: pre-processed)
//
// Answers: '+' done, '!' an unlink or the directory sync failed, 'x' bad request.
// todo/ removals are made durable (directory fsync) before they are answered,
// once per burst of requests: a todo/N that came back after a power cut would
// be pre-processed again and its delivered recipients delivered twice.
#ifndef QF_QUEUE_CLEAN_H
#define QF_QUEUE_CLEAN_H

#include <set>
#include <string>
#include <string_view>

#include "queue/layout.h"

namespace qf::queue {

class Cleaner {
 public:
  explicit Cleaner(Layout q) : q_(std::move(q)) {}
  /// Performs one request; returns its answer byte. A todo removal is only
  /// final once sync() has returned true.
  char handle(std::string_view request);
  /// fsyncs the directories of the todo removals since the last call.
  bool sync();
  /// Removes pid/ leftovers past the reclaim age; called after every request,
  /// it sweeps after the first one since the start, then every 30.
  void maybe_sweep(time_t now);

 private:
  Layout q_;
  std::set<std::string> dirty_;
  // A start often follows a crash: the first request sweeps.
  unsigned since_sweep_ = 29;
};

}  // namespace qf::queue

#endif
