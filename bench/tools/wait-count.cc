// ISC license.
// Waits until a count reaches a number and prints the wall-clock time
// (CLOCK_REALTIME, seconds.nanoseconds, as `date +%s.%N` prints it) at which
// it saw the count reach it, and the count. Three counts:
//
//   dir DIR      entries in DIR (a Maildir's new/). inotify wakes it on every
//                file created or moved in; a full recount runs at start, on an
//                event-queue overflow, every 2 s and to confirm the final
//                count, so no arrival is missed and none is counted twice.
//   sink FILE    the last "mesg=K" in FILE, the output of smtp-sink -c
//                (counters separated by CR, flushed on every change).
//   prefix FILE TEXT   lines of FILE that start with TEXT (an smtp-sink -D
//                dump: "X-Rcpt-Args:" counts recipients).
//
// Files are read as they grow, polled every 10 ms. Exits 0 when the count
// is reached, 1 on timeout (printing the time of the last change and the
// count reached), 100 on usage errors, 111 on other errors.
// usage: wait-count dir DIR N TIMEOUT | sink FILE N TIMEOUT | prefix FILE TEXT N TIMEOUT
#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <time.h>
#include <unistd.h>

#include <string>

static double wall() {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

static long recount(char const* dir) {
  DIR* d = opendir(dir);
  if (!d) return -1;
  long n = 0;
  while (struct dirent* e = readdir(d))
    if (e->d_name[0] != '.') n++;
  closedir(d);
  return n;
}

static int wait_dir(char const* dir, long want, double deadline) {
  int in = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (in < 0 || inotify_add_watch(in, dir, IN_CREATE | IN_MOVED_TO) < 0) {
    perror("wait-count: inotify");
    return 111;
  }
  long n = recount(dir);
  if (n < 0) {
    perror("wait-count: opendir");
    return 111;
  }
  double seen = wall(), last_scan = seen;
  char buf[1 << 16] __attribute__((aligned(8)));
  for (;;) {
    if (n >= want) {
      // Events may count a file twice when a rescan raced with its event:
      // a count that says done is confirmed by a rescan.
      long c = recount(dir);
      if (c >= want) break;
      n = c;
    }
    double t = wall();
    if (t >= deadline) {
      printf("%.6f %ld\n", seen, n);
      return 1;
    }
    struct pollfd p = {in, POLLIN, 0};
    poll(&p, 1, 100);
    bool overflow = false;
    for (;;) {
      ssize_t r = read(in, buf, sizeof buf);
      if (r <= 0) break;
      for (char* q = buf; q < buf + r;) {
        struct inotify_event* e = (struct inotify_event*)q;
        if (e->mask & IN_Q_OVERFLOW)
          overflow = true;
        else if (e->len && e->name[0] != '.')
          n++, seen = wall();
        q += sizeof *e + e->len;
      }
    }
    t = wall();
    if (overflow || t - last_scan >= 2) {
      long c = recount(dir);
      if (overflow || c > n) n = c, seen = t;
      last_scan = t;
    }
  }
  printf("%.6f %ld\n", seen, n);
  return 0;
}

// Follows file as it grows; feeds each complete record (ended by one of
// seps) to f, which returns the new count or -1 to keep the old one.
template <class F>
static int wait_file(char const* file, char const* seps, long want, double deadline, F f) {
  int fd = -1;
  long n = 0;
  double seen = wall();
  std::string rec;
  char buf[1 << 16];
  for (;;) {
    if (fd < 0) fd = open(file, O_RDONLY | O_CLOEXEC);  // may not exist yet
    bool grew = false;
    if (fd >= 0)
      for (;;) {
        ssize_t r = read(fd, buf, sizeof buf);
        if (r <= 0) break;
        for (ssize_t i = 0; i < r; i++) {
          if (!strchr(seps, buf[i])) {
            rec += buf[i];
            continue;
          }
          long c = f(rec, n);
          if (c >= 0 && c != n) n = c, grew = true;
          rec.clear();
        }
      }
    if (grew) seen = wall();
    if (n >= want) break;
    if (wall() >= deadline) {
      printf("%.6f %ld\n", seen, n);
      return 1;
    }
    usleep(10000);
  }
  printf("%.6f %ld\n", seen, n);
  return 0;
}

static int usage() {
  fprintf(stderr,
          "usage: wait-count dir DIR N TIMEOUT | sink FILE N TIMEOUT | prefix FILE TEXT N TIMEOUT\n");
  return 100;
}

int main(int argc, char** argv) {
  if (argc < 2) return usage();
  std::string mode = argv[1];
  if (mode == "dir" && argc == 5)
    return wait_dir(argv[2], atol(argv[3]), wall() + atof(argv[4]));
  if (mode == "sink" && argc == 5)
    return wait_file(argv[2], "\r\n", atol(argv[3]), wall() + atof(argv[4]),
                     [](std::string const& r, long) -> long {
                       size_t p = r.rfind("mesg=");
                       return p == std::string::npos ? -1 : atol(r.c_str() + p + 5);
                     });
  if (mode == "prefix" && argc == 6) {
    std::string text = argv[3];
    return wait_file(argv[2], "\n", atol(argv[4]), wall() + atof(argv[5]),
                     [&text](std::string const& r, long n) -> long {
                       return r.compare(0, text.size(), text) == 0 ? n + 1 : -1;
                     });
  }
  return usage();
}
