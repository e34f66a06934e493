// ISC license.
// Runs a qmail-queue client loop as fast as the program allows: workers
// processes, each fork+exec'ing PROGRAM count/workers times with fd 0 = the
// message file and fd 1 = the envelope file. Prints "count seconds rate".
// usage: inject-loop program message envelope workers count
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char** argv) {
  if (argc < 6) {
    fprintf(stderr, "usage: inject-loop program message envelope workers count\n");
    return 100;
  }
  char const* prog = argv[1];
  int workers = atoi(argv[4]), count = atoi(argv[5]);
  double t0 = now();
  for (int w = 0; w < workers; w++) {
    if (fork() != 0) continue;
    for (int i = 0; i < count / workers; i++) {
      pid_t p = fork();
      if (p == 0) {
        int m = open(argv[2], O_RDONLY), e = open(argv[3], O_RDONLY);
        if (m < 0 || e < 0 || dup2(m, 0) < 0 || dup2(e, 1) < 0) _exit(120);
        execl(prog, prog, (char*)nullptr);
        _exit(120);
      }
      int st;
      if (waitpid(p, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st)) _exit(1);
    }
    _exit(0);
  }
  int st, bad = 0;
  while (wait(&st) > 0) bad |= !WIFEXITED(st) || WEXITSTATUS(st);
  double t = now() - t0;
  printf("%d %.3f %.1f\n", count, t, count / t);
  return bad;
}
