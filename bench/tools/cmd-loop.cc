// ISC license.
// A CLI injector loop: workers processes, each running PROGRAM ARGS... with
// fd 0 = the input file, one after the other, count times in all (the
// remainder spread over the first workers). A run that exits non-zero is
// counted as a failure and not retried. Prints "count seconds rate failures"
// and exits 1 if any run failed.
// usage: cmd-loop workers count input program [arg ...]
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
  if (argc < 5) {
    fprintf(stderr, "usage: cmd-loop workers count input program [arg ...]\n");
    return 100;
  }
  int workers = atoi(argv[1]), count = atoi(argv[2]);
  char const* input = argv[3];
  if (workers < 1 || count < 0) return 100;
  double t0 = now();
  for (int w = 0; w < workers; w++) {
    if (fork() != 0) continue;
    int mine = count / workers + (w < count % workers ? 1 : 0), failed = 0;
    for (int i = 0; i < mine; i++) {
      pid_t p = fork();
      if (p < 0) {
        failed++;
        continue;
      }
      if (p == 0) {
        int fd = open(input, O_RDONLY);
        if (fd < 0 || dup2(fd, 0) < 0) _exit(120);
        execvp(argv[4], argv + 4);
        _exit(120);
      }
      int st;
      if (waitpid(p, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st)) failed++;
    }
    _exit(failed > 255 ? 255 : failed);
  }
  int st, failed = 0;
  while (wait(&st) > 0) failed += WIFEXITED(st) ? WEXITSTATUS(st) : 1;
  double t = now() - t0;
  printf("%d %.3f %.1f %d\n", count, t, count / t, failed);
  return failed != 0;
}
