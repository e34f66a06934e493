// ISC license.
// maxrss prog [args...]: runs prog and prints its peak resident set size in
// KiB (getrusage of the child) on stderr as "maxrss N"; exits as prog did.
#include <stdio.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

char const* PROG = "maxrss";

int main(int argc, char** argv) {
  if (argc < 2) return 100;
  pid_t pid = fork();
  if (pid < 0) return 111;
  if (pid == 0) {
    execvp(argv[1], argv + 1);
    _exit(111);
  }
  int st;
  struct rusage ru;
  if (wait4(pid, &st, 0, &ru) < 0) return 111;
  fprintf(stderr, "maxrss %ld\n", ru.ru_maxrss);
  return WIFEXITED(st) ? WEXITSTATUS(st) : 111;
}
