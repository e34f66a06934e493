// ISC license.
// queued-probe: raw clients of qmail-queued's socket, for the tests.
//   queued-probe pipe SOCK N MS   sends N small messages back to back in one
//                                 write on one connection, then prints one
//                                 line per answer; exit 1 if the N answers
//                                 did not all come within MS milliseconds.
//   queued-probe hold SOCK N      opens N connections and keeps them open and
//                                 silent; prints "holding K" (K connected) and
//                                 then waits until killed.
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "queue/envelope.h"
#include "queue/wire.h"
#include "sys/fs.h"

char const* PROG = "queued-probe";

namespace {

int connect_to(char const* path, bool nonblock) {
  sockaddr_un sa;
  memset(&sa, 0, sizeof sa);
  sa.sun_family = AF_UNIX;
  if (strlen(path) >= sizeof sa.sun_path) return -1;
  strcpy(sa.sun_path, path);
  int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | (nonblock ? SOCK_NONBLOCK : 0), 0);
  if (s < 0) return -1;
  if (connect(s, reinterpret_cast<sockaddr*>(&sa), sizeof sa) < 0) {
    close(s);
    return -1;
  }
  return s;
}

int64_t now_ms() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) return 100;
  std::string mode = argv[1];
  char const* path = argv[2];
  long n = atol(argv[3]);
  signal(SIGPIPE, SIG_IGN);
  if (mode == "pipe" && argc == 5) {
    long ms = atol(argv[4]);
    int s = connect_to(path, false);
    if (s < 0) {
      perror("queued-probe: connect");
      return 111;
    }
    std::string all;
    for (long i = 0; i < n; i++) {
      std::string body = "Subject: pipelined\nX-Token: pipe" + std::to_string(i + 1) + "\n\nx\n";
      qf::queue::wire::put_chunk_header(&all, uint32_t(body.size()));
      all += body;
      qf::queue::wire::put_chunk_header(&all, 0);
      qf::queue::put_record(&all, 'F', "s@example.org");
      qf::queue::put_record(&all, 'T', "u@test.example");
      all.push_back('\0');
    }
    if (!qf::write_all(s, all)) return 111;
    int64_t deadline = now_ms() + ms;
    std::string in;
    long answers = 0;
    bool greeted = false;
    while (answers < n) {
      int64_t left = deadline - now_ms();
      if (left <= 0) break;
      pollfd p = {s, POLLIN, 0};
      if (poll(&p, 1, int(left)) <= 0) continue;
      char b[256];
      ssize_t r = read(s, b, sizeof b);
      if (r <= 0) break;
      in.append(b, size_t(r));
      if (!greeted && !in.empty() && in[0] == qf::queue::wire::kGreeting) in.erase(0, 1);
      greeted = greeted || !in.empty();
      size_t nl;
      while ((nl = in.find('\n')) != std::string::npos) {
        printf("%s\n", in.substr(0, nl).c_str());
        in.erase(0, nl + 1);
        answers++;
      }
    }
    fflush(stdout);
    if (answers < n) {
      fprintf(stderr, "queued-probe: %ld of %ld answers within %ld ms\n", answers, n, ms);
      return 1;
    }
    return 0;
  }
  if (mode == "hold") {
    std::vector<int> fds;
    for (long i = 0; i < n; i++) {
      int s = connect_to(path, true);
      if (s >= 0) fds.push_back(s);
    }
    printf("holding %zu\n", fds.size());
    fflush(stdout);
    for (;;) pause();
  }
  return 100;
}
