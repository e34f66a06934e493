// ISC license.
// todo-proc: pre-process new messages for qmail-send. See todo-proc(8).
#include <stdlib.h>

#include <new>

#include "conf/paths.h"
#include "sys/exitcodes.h"
#include "sys/skalibs.h"
#include "todo/todo.h"

char const* PROG = "todo-proc";

int main() {
  using namespace qf;
  char const* qd = getenv("QUEUEDIR");
  try {
    todo::TodoProc t(queue::Layout::from_env(qd && *qd ? qd : conf::default_queue()));
    return t.run();
  } catch (std::bad_alloc const&) {
    return ex::temp;
  }
}
