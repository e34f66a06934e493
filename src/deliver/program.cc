// ISC license.
#include "deliver/program.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "deliver/watchdog.h"
#include "sys/fd.h"
#include "sys/fs.h"
#include "sys/timefmt.h"

namespace qf::deliver {

namespace {

// Only async-signal-safe calls from here to the exec: we forked.
[[noreturn]] void child_fail(char const* what, int err) {
  char const* e = strerror(err);
  char const* parts[] = {"Unable to ", what, ": ", e, ". (#4.3.0)\n"};
  for (char const* p : parts) {
    ssize_t w = ::write(2, p, std::strlen(p));
    (void)w;
  }
  _exit(111);
}

[[noreturn]] void exec_child(int homefd, char const* command, char* const* envp, int messfd,
                             int outfd) {
  ::setpgid(0, 0);
  // Move both descriptors out of the way before putting them on 0, 1 and 2.
  int m = ::fcntl(messfd, F_DUPFD, 10);
  int o = ::fcntl(outfd, F_DUPFD, 10);
  if (m < 0 || o < 0 || ::dup2(o, 1) < 0 || ::dup2(o, 2) < 0) _exit(111);
  if (::dup2(m, 0) < 0) child_fail("set up the message", errno);
  if (::lseek(0, 0, SEEK_SET) < 0) child_fail("rewind message", errno);
  if (::fchdir(homefd) < 0) child_fail("switch to the home directory", errno);
  struct sigaction sa;
  std::memset(&sa, 0, sizeof sa);
  sa.sa_handler = SIG_DFL;
  sigemptyset(&sa.sa_mask);
  for (int s = 1; s < NSIG; s++)
    if (s != SIGKILL && s != SIGSTOP) ::sigaction(s, &sa, nullptr);
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  close_fds_from(3);
  char* argv[] = {const_cast<char*>("/bin/sh"), const_cast<char*>("-c"),
                  const_cast<char*>(command), nullptr};
  ::execve("/bin/sh", argv, envp);
  child_fail("run /bin/sh", errno);
}

// Reads what is in the (non-blocking) pipe now; false at end of file or error.
bool drain(int fd, ProgramResult* r, size_t max_output) {
  char buf[8192];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno == EAGAIN;
    }
    if (n == 0) return false;
    size_t room = r->output.size() < max_output ? max_output - r->output.size() : 0;
    if (size_t(n) > room) r->truncated = true;
    r->output.append(buf, std::min(size_t(n), room));
  }
}

bool has_exited(pid_t pid) {
  siginfo_t si;
  si.si_pid = 0;
  if (::waitid(P_PID, id_t(pid), &si, WEXITED | WNOHANG | WNOWAIT) < 0) return errno == ECHILD;
  return si.si_pid == pid;
}

void reap(pid_t pid, ProgramResult* r) {
  int st;
  while (::waitpid(pid, &st, 0) < 0 && errno == EINTR) {
  }
  if (r->how == ProgramResult::timed_out) return;
  if (WIFEXITED(st)) {
    r->how = ProgramResult::exited;
    r->status = WEXITSTATUS(st);
  } else {
    r->how = ProgramResult::signaled;
    r->status = WIFSIGNALED(st) ? WTERMSIG(st) : 0;
  }
}

}  // namespace

void close_fds_from(int lowest, std::vector<int> const& keep) {
  std::vector<int> k;
  for (int fd : keep)
    if (fd >= lowest) k.push_back(fd);
  std::sort(k.begin(), k.end());
  unsigned lo = unsigned(lowest);
  for (int fd : k) {
    if (unsigned(fd) > lo && ::syscall(SYS_close_range, lo, unsigned(fd) - 1, 0) < 0)
      for (unsigned i = lo; i < unsigned(fd); i++) ::close(int(i));
    lo = unsigned(fd) + 1;
  }
  if (::syscall(SYS_close_range, lo, ~0U, 0) == 0) return;
  // No close_range (an old kernel): close what /proc says is open.
  DIR* d = ::opendir("/proc/self/fd");
  if (!d) {
    for (int i = int(lo); i < 65536; i++) ::close(i);
    return;
  }
  std::vector<int> open;
  while (struct dirent* e = ::readdir(d)) {
    uint64_t n;
    if (scan_u64(e->d_name, &n) && n >= lo && int(n) != ::dirfd(d)) open.push_back(int(n));
  }
  ::closedir(d);
  for (int fd : open) ::close(fd);
}

ProgramResult run_program(int homefd, std::string const& command,
                          std::vector<std::string> const& env, int messfd, int64_t timeout_ms,
                          size_t max_output) {
  ProgramResult r;
  std::vector<char*> envp;
  envp.reserve(env.size() + 1);
  for (auto const& e : env) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);

  int p[2];
  if (::pipe2(p, O_CLOEXEC) < 0) {
    r.err = errno;
    return r;
  }
  Fd out(p[0]), in(p[1]);
  if (::fcntl(out.get(), F_SETFL, O_NONBLOCK) < 0) {
    r.err = errno;
    return r;
  }
  int64_t deadline = monotonic_ms() + timeout_ms;
  pid_t pid = ::fork();
  if (pid < 0) {
    r.err = errno;
    return r;
  }
  if (pid == 0) exec_child(homefd, command.c_str(), envp.data(), messfd, in.get());
  ::setpgid(pid, pid);  // also in the child: whichever runs first
  watchdog_program(pid);
  in.reset();
  Fd pidfd(int(::syscall(SYS_pidfd_open, pid, 0)));
  if (pidfd.ok()) ::fcntl(pidfd.get(), F_SETFD, FD_CLOEXEC);

  // Done when the shell has exited and nothing holds its output any more. The
  // shell stays a zombie (WNOWAIT) until then, so its pid keeps naming the group.
  bool reading = true, exited = false;
  for (;;) {
    if (!exited && has_exited(pid)) exited = true;
    if (exited && !reading) break;
    int64_t left = deadline - monotonic_ms();
    if (left <= 0) {
      r.how = ProgramResult::timed_out;
      break;
    }
    struct pollfd fds[2];
    nfds_t n = 0;
    if (reading) fds[n++] = {out.get(), POLLIN, 0};
    if (pidfd.ok() && !exited) fds[n++] = {pidfd.get(), POLLIN, 0};
    // Without a pidfd, look at the child every 50 ms.
    int64_t wait = pidfd.ok() || exited ? left : std::min<int64_t>(left, 50);
    int rc = ::poll(fds, n, int(std::min<int64_t>(wait, 1 << 30)));
    if (rc < 0 && errno != EINTR) {
      r.err = errno;
      r.how = ProgramResult::timed_out;
      break;
    }
    if (reading && rc > 0 && fds[0].revents) reading = drain(out.get(), &r, max_output);
  }
  if (r.how == ProgramResult::timed_out) {
    ::kill(-pid, SIGKILL);
    ::kill(pid, SIGKILL);
  }
  reap(pid, &r);
  watchdog_program(0);
  if (reading) drain(out.get(), &r, max_output);
  return r;
}

}  // namespace qf::deliver
