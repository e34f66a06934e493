// ISC license.
// The disk's durable-commit limit: per message, what a minimal queue must do
// (DESIGN.md §6): write the message and fsync it, write a small envelope and
// fsync it, link the envelope into a second directory, fsync that directory.
// usage: durable-commit dir workers count [bytes]
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <string>

static double now() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void work(std::string const& dir, int w, int count, size_t bytes) {
  std::string msg(bytes, 'x'), env(64, 'e');
  std::string d1 = dir + "/m" + std::to_string(w), d2 = dir + "/t" + std::to_string(w);
  mkdir(d1.c_str(), 0755);
  mkdir(d2.c_str(), 0755);
  int dfd = open(d2.c_str(), O_RDONLY | O_DIRECTORY);
  for (int i = 0; i < count; i++) {
    std::string m = d1 + "/" + std::to_string(i), e = d1 + "/e" + std::to_string(i),
                t = d2 + "/" + std::to_string(i);
    int fd = open(m.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0644);
    if (fd < 0 || write(fd, msg.data(), msg.size()) < 0 || fsync(fd) < 0) _exit(1);
    close(fd);
    fd = open(e.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0644);
    if (fd < 0 || write(fd, env.data(), env.size()) < 0 || fsync(fd) < 0) _exit(1);
    close(fd);
    if (link(e.c_str(), t.c_str()) < 0 || fsync(dfd) < 0) _exit(1);
  }
  _exit(0);
}

int main(int argc, char** argv) {
  if (argc < 4) {
    fprintf(stderr, "usage: durable-commit dir workers count [bytes]\n");
    return 100;
  }
  int workers = atoi(argv[2]), count = atoi(argv[3]);
  size_t bytes = argc > 4 ? size_t(atol(argv[4])) : 2048;
  double t0 = now();
  for (int w = 0; w < workers; w++)
    if (fork() == 0) work(argv[1], w, count / workers, bytes);
  int st, bad = 0;
  while (wait(&st) > 0) bad |= !WIFEXITED(st) || WEXITSTATUS(st);
  double t = now() - t0;
  printf("%d %.3f %.1f\n", count, t, count / t);
  return bad;
}
