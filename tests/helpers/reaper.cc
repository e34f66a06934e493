// ISC license.
// reaper seconds prog [args...]: runs one test so that nothing it starts
// outlives it. It becomes a child subreaper (every orphan of the test is
// re-parented to it), runs prog, and kills prog's process tree after
// `seconds` (TERM, then KILL 10 s later). When prog has exited it waits up to
// 3 s for stragglers, then kills whatever is left, and removes POSIX IPC
// objects (/dev/shm/qfleet1.*, /dev/mqueue/qfleet1.* when mounted) and mounts
// that appeared while the test ran. Every such leftover is named on stderr
// ("reaper: leaked ...").
// Exit: prog's status (128+n for a signal); 124 when it timed out; 70 when it
// passed (0 or 77) but left something behind.
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <mqueue.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

char const* PROG = "reaper";

namespace {

std::set<std::string> list_dir(char const* dir, char const* prefix) {
  std::set<std::string> out;
  DIR* d = opendir(dir);
  if (!d) return out;
  while (dirent* e = readdir(d))
    if (strncmp(e->d_name, prefix, strlen(prefix)) == 0) out.insert(e->d_name);
  closedir(d);
  return out;
}

std::set<std::string> mounts() {
  std::set<std::string> out;
  std::ifstream f("/proc/self/mounts");
  std::string line;
  while (std::getline(f, line)) {
    std::istringstream s(line);
    std::string dev, dir;
    s >> dev >> dir;
    out.insert(dir);
  }
  return out;
}

// A /proc/PID file, "" when it cannot be read. Any process of the machine may
// exit meanwhile: read(2) then fails with ESRCH, where an ifstream would throw
// and abort the reaper (seen with two make checks at once).
std::string read_proc(pid_t p, char const* file) {
  std::string s;
  int fd = ::open(("/proc/" + std::to_string(p) + "/" + file).c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return s;
  char buf[4096];
  ssize_t r;
  while ((r = ::read(fd, buf, sizeof buf)) > 0) s.append(buf, size_t(r));
  ::close(fd);
  return r < 0 ? std::string() : s;
}

std::string cmdline(pid_t p) {
  std::string s = read_proc(p, "cmdline");
  for (char& c : s)
    if (!c) c = ' ';
  if (s.size() > 200) s.resize(200);
  return s;
}

pid_t parent_of(pid_t p) {
  std::string all = read_proc(p, "stat");
  size_t rp = all.rfind(')');
  if (rp == std::string::npos) return -1;
  std::istringstream s(all.substr(rp + 2));
  char state;
  pid_t pp = -1;
  s >> state >> pp;
  return state == 'Z' ? -1 : pp;  // a zombie is reaped below, not killed
}

// Every live process whose ancestry reaches us.
std::vector<pid_t> descendants() {
  std::vector<pid_t> all, out;
  std::vector<pid_t> parent;
  DIR* d = opendir("/proc");
  if (!d) return out;
  while (dirent* e = readdir(d)) {
    char* end;
    long n = strtol(e->d_name, &end, 10);
    if (*end || n <= 0) continue;
    all.push_back(pid_t(n));
  }
  closedir(d);
  std::set<pid_t> mine{getpid()};
  // Parents have lower pids only usually: iterate until nothing new joins.
  for (bool grew = true; grew;) {
    grew = false;
    for (pid_t p : all) {
      if (mine.count(p)) continue;
      pid_t pp = parent_of(p);
      if (pp > 0 && mine.count(pp)) {
        mine.insert(p);
        out.push_back(p);
        grew = true;
      }
    }
  }
  return out;
}

void reap_all() {
  while (waitpid(-1, nullptr, WNOHANG) > 0) {
  }
}

volatile sig_atomic_t got_signal = 0;
void on_signal(int s) { got_signal = s; }

}  // namespace

int main(int argc, char** argv) {
  char* end;
  long secs = argc >= 3 ? strtol(argv[1], &end, 10) : 0;
  if (argc < 3 || *end || secs <= 0) {
    fprintf(stderr, "reaper: usage: reaper seconds prog [args...]\n");
    return 100;
  }
  if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0) {
    perror("reaper: fatal: unable to become a subreaper");
    return 111;
  }
  auto shm0 = list_dir("/dev/shm", "qfleet1.");
  auto mq0 = list_dir("/dev/mqueue", "qfleet1.");
  auto mnt0 = mounts();

  pid_t child = fork();
  if (child < 0) return 111;
  if (child == 0) {
    setpgid(0, 0);
    execvp(argv[2], argv + 2);
    _exit(127);
  }
  setpgid(child, child);
  struct sigaction sa = {};
  sa.sa_handler = on_signal;
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGHUP, &sa, nullptr);

  time_t deadline = time(nullptr) + secs;
  bool timed_out = false;
  int status = 0;
  bool killed_hard = false;
  for (;;) {
    pid_t r = waitpid(child, &status, WNOHANG);
    if (r == child) break;
    time_t now = time(nullptr);
    if (!timed_out && (now >= deadline || got_signal)) {
      timed_out = !got_signal;
      if (timed_out) fprintf(stderr, "reaper: %s timed out after %ld s\n", argv[2], secs);
      kill(child, SIGTERM);  // its trap runs the test's own cleanup
      deadline = now + 10;
      got_signal = 0;
      continue;
    }
    if ((timed_out || got_signal) && now >= deadline && !killed_hard) {
      for (pid_t p : descendants()) kill(p, SIGKILL);
      killed_hard = true;
    }
    reap_all();
    usleep(50000);
  }
  int rc = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  if (timed_out) rc = 124;

  // Stragglers get 3 s (a daemon finishing its stop), then they are leaks.
  bool leaked = false;
  for (int i = 0; i < 60; i++) {
    reap_all();
    if (descendants().empty()) break;
    usleep(50000);
  }
  for (int round = 0; round < 20; round++) {
    auto left = descendants();
    if (left.empty()) break;
    for (pid_t p : left) {
      if (round == 0) fprintf(stderr, "reaper: leaked process %d: %s\n", int(p), cmdline(p).c_str());
      kill(p, round == 0 ? SIGTERM : SIGKILL);
    }
    leaked = true;
    usleep(round == 0 ? 500000 : 100000);
    reap_all();
  }

  for (auto const& n : list_dir("/dev/shm", "qfleet1.")) {
    if (shm0.count(n)) continue;
    fprintf(stderr, "reaper: leaked shared memory /dev/shm/%s\n", n.c_str());
    shm_unlink(("/" + n).c_str());
    leaked = true;
  }
  for (auto const& n : list_dir("/dev/mqueue", "qfleet1.")) {
    if (mq0.count(n)) continue;
    fprintf(stderr, "reaper: leaked message queue /%s\n", n.c_str());
    mq_unlink(("/" + n).c_str());
    leaked = true;
  }
  auto mnt1 = mounts();
  std::vector<std::string> extra;
  for (auto const& m : mnt1)
    if (!mnt0.count(m)) extra.push_back(m);
  for (auto it = extra.rbegin(); it != extra.rend(); ++it) {
    fprintf(stderr, "reaper: leaked mount %s\n", it->c_str());
    umount2(it->c_str(), MNT_DETACH);
    leaked = true;
  }
  if (leaked && (rc == 0 || rc == 77)) return 70;
  return rc;
}
