// ISC license.
// Fills a stopped queue with count pre-processed messages straight on disk
// (scenario (g): qmail-send's start-up with 1,000,000 queued). Each message:
// mess/S/N named by its inode, info/S/N and remote/S/N whose mtime (the next
// retry) is a day ahead, so qmail-send loads them all and waits. The files are
// empty: at start-up qmail-send reads only names and times (with content, a
// million messages would need 8 GB of tmpfs). Never let such a queue run for a
// day. No fsync: bench setup.
// usage: fill-queue queuedir split count
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <string>

int main(int argc, char** argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: fill-queue queuedir split count\n");
    return 100;
  }
  std::string q = argv[1];
  unsigned long split = strtoul(argv[2], nullptr, 10), count = strtoul(argv[3], nullptr, 10);
  struct timespec later[2];
  clock_gettime(CLOCK_REALTIME, &later[0]);
  later[0].tv_sec += 86400;
  later[1] = later[0];
  std::string tmp = q + "/pid/fill." + std::to_string(getpid());
  for (unsigned long i = 0; i < count; i++) {
    int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0644);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0) {
      perror("fill-queue: create");
      return 111;
    }
    close(fd);
    unsigned long n = st.st_ino, b = n % split;
    std::string mess = q + "/mess/" + std::to_string(b) + "/" + std::to_string(n);
    if (rename(tmp.c_str(), mess.c_str()) < 0) {
      perror("fill-queue: rename");
      return 111;
    }
    std::string in = q + "/info/" + std::to_string(b) + "/" + std::to_string(n);
    std::string rm = q + "/remote/" + std::to_string(b) + "/" + std::to_string(n);
    fd = open(in.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0600);
    if (fd < 0) return 111;
    close(fd);
    fd = open(rm.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0600);
    if (fd < 0 || futimens(fd, later) < 0) return 111;
    close(fd);
  }
  printf("%lu\n", count);
  return 0;
}
