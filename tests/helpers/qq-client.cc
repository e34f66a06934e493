// ISC license.
// Drives QueueClient the way qmail-inject does: message on fd 0, envelope
// records from argv (sender, then recipients), prints "<code> <mode>" where
// mode is "socket" when qmail-queued took the message, "exec" otherwise.
// usage: qq-client sender rcpt...
#include <stdio.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "queue/client.h"
#include "sys/skalibs.h"

char const* PROG = "qq-client";

int main(int argc, char** argv) {
  if (argc < 2) return 100;
  qf::queue::QueueClient c;
  if (!c.open()) return 111;
  c.put_fd(0);
  std::vector<std::string> rcpts(argv + 2, argv + argc);
  int code = c.close(argv[1], rcpts);
  printf("%d %s\n", code, c.pid() == getpid() ? "socket" : "exec");
  return 0;
}
