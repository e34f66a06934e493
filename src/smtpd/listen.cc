// ISC license.
#include "smtpd/listen.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstring>
#include <map>
#include <vector>
#include <new>

#include "conf/control.h"
#include "queue/client.h"
#include "smtpd/server.h"
#include "sys/exitcodes.h"
#include "sys/fd.h"
#include "sys/fs.h"
#include "sys/loop.h"
#include "sys/strerr.h"

namespace qf::smtpd {

namespace {

std::string ip_text(struct sockaddr_storage const& ss, uint16_t* port) {
  char buf[INET6_ADDRSTRLEN] = "";
  if (ss.ss_family == AF_INET) {
    auto const* a = reinterpret_cast<struct sockaddr_in const*>(&ss);
    inet_ntop(AF_INET, &a->sin_addr, buf, sizeof buf);
    *port = ntohs(a->sin_port);
  } else if (ss.ss_family == AF_INET6) {
    auto const* a = reinterpret_cast<struct sockaddr_in6 const*>(&ss);
    inet_ntop(AF_INET6, &a->sin6_addr, buf, sizeof buf);
    *port = ntohs(a->sin6_port);
  }
  return buf;
}

// tcpserver's variables for the session on fd, which qmail-smtpd reads (-H -R:
// no name lookups). Every worker sets all of them before each session, so
// nothing of one client is left for the next.
// remote is the client's address as accept4 gave it.
void session_env(int fd, ListenOptions const& o, struct sockaddr_storage const& remote) {
  struct sockaddr_storage local;
  socklen_t ll = sizeof local;
  uint16_t lport = 0, rport = 0;
  std::string lip, rip;
  if (::getsockname(fd, reinterpret_cast<struct sockaddr*>(&local), &ll) == 0) lip = ip_text(local, &lport);
  rip = ip_text(remote, &rport);
  ::setenv("PROTO", "TCP", 1);
  ::setenv("TCPLOCALIP", lip.c_str(), 1);
  ::setenv("TCPLOCALPORT", fmt_u64(lport).c_str(), 1);
  ::setenv("TCPREMOTEIP", rip.c_str(), 1);
  ::setenv("TCPREMOTEPORT", fmt_u64(rport).c_str(), 1);
  if (!o.local_host.empty() && o.local_host != "0")
    ::setenv("TCPLOCALHOST", o.local_host.c_str(), 1);
}

// What a worker tells the listener: it took a client (busy) or is free again.
// Eight bytes, so every note is one atomic pipe write.
struct Note {
  pid_t pid;
  int32_t busy;
};

void note(int fd, bool busy) {
  static pid_t const self = ::getpid();  // a worker's: each is forked before its first note
  Note n = {self, busy ? 1 : 0};
  (void)!::write(fd, &n, sizeof n);
}

// One slot per worker in memory shared by the listener and the workers: the
// client IP a worker serves now ("" when idle). The listener gives each worker
// its slot and clears it when the worker dies, so a crash leaks no count.
struct IpSlot {
  std::atomic<uint32_t> used;  // a session runs
  char ip[INET6_ADDRSTRLEN];
};

class IpTable {
 public:
  explicit IpTable(size_t n) : n_(n) {
    void* p = ::mmap(nullptr, n * sizeof(IpSlot), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (p != MAP_FAILED) slots_ = static_cast<IpSlot*>(p);  // zeroed by the kernel
  }
  ~IpTable() {
    if (slots_) ::munmap(slots_, n_ * sizeof(IpSlot));
  }
  bool ok() const { return slots_ != nullptr; }
  // Publishes ip in slot i, then counts the slots serving ip, this one included.
  size_t enter(size_t i, std::string const& ip) {
    std::snprintf(slots_[i].ip, sizeof slots_[i].ip, "%s", ip.c_str());
    slots_[i].used.store(1, std::memory_order_seq_cst);
    size_t same = 0;
    for (size_t k = 0; k < n_; k++)
      if (slots_[k].used.load(std::memory_order_seq_cst) && std::strncmp(slots_[k].ip, slots_[i].ip, sizeof slots_[i].ip) == 0)
        same++;
    return same;
  }
  void leave(size_t i) { slots_[i].used.store(0); }

 private:
  size_t n_;
  IpSlot* slots_ = nullptr;
};

std::string peer_ip(struct sockaddr_storage const& remote) {
  uint16_t port = 0;
  std::string ip = ip_text(remote, &port);
  if (ip.compare(0, 7, "::ffff:") == 0 && ip.find('.') != std::string::npos) ip.erase(0, 7);
  return ip;
}

volatile sig_atomic_t g_term = 0;
void on_term(int) { g_term = 1; }

// A worker: waits for a client on the shared socket, serves it, and starts
// over. TERM is blocked while a session runs and taken only in the wait, so a
// stopping listener never cuts a session short.
[[noreturn]] void worker(int ls, int status, ListenOptions const& o, IpTable* ips, size_t slot) {
  struct sigaction sa;
  std::memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_term;
  sigemptyset(&sa.sa_mask);
  ::sigaction(SIGTERM, &sa, nullptr);
  sigset_t term, open;
  sigemptyset(&term);
  sigaddset(&term, SIGTERM);
  ::sigprocmask(SIG_BLOCK, &term, &open);
  sigdelset(&open, SIGTERM);
  unsigned served = 0;
  ControlCache controls;
  // One session after another: each message goes over the same connection
  // to qmail-queued, not a new one with its greeting.
  queue::QueueClient::keep_connections(true);
  // The idle workers wait in epoll with EPOLLEXCLUSIVE: a client wakes one
  // of them, not all (with poll every idle worker woke and all but one got
  // EAGAIN from accept). Where epoll refuses, poll as before.
  Fd ep(::epoll_create1(EPOLL_CLOEXEC));
  if (ep.ok()) {
    struct epoll_event ev;
    std::memset(&ev, 0, sizeof ev);
    ev.events = EPOLLIN | EPOLLEXCLUSIVE;
    ev.data.fd = ls;
    if (::epoll_ctl(ep.get(), EPOLL_CTL_ADD, ls, &ev) < 0) ep.reset();
  }
  int idle_ms = o.max_idle > 2000000 ? 2000000000 : int(o.max_idle) * 1000;
  for (;;) {
    if (g_term) _exit(ex::ok);
    int n;
    if (ep.ok()) {
      struct epoll_event ev;
      n = ::epoll_pwait(ep.get(), &ev, 1, idle_ms, &open);
    } else {
      struct pollfd p = {ls, POLLIN, 0};
      struct timespec idle = {time_t(o.max_idle), 0};
      n = ::ppoll(&p, 1, &idle, &open);
    }
    if (n < 0 && errno == EINTR) continue;
    if (n == 0) _exit(ex::ok);  // no client for max_idle seconds
    if (n < 0) _exit(ex::temp);
    // Another worker may still have been quicker: EAGAIN, and wait again.
    struct sockaddr_storage remote;
    socklen_t rl = sizeof remote;
    std::memset(&remote, 0, sizeof remote);
    // Non-blocking from the start: the session needs it so, and the socket is ours alone.
    int fd = ::accept4(ls, reinterpret_cast<struct sockaddr*>(&remote), &rl, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (fd < 0) continue;
    note(status, true);
    std::string ip = peer_ip(remote);
    size_t same = ips->enter(slot, ip);
    if (o.per_ip && same > o.per_ip && !ip_excepted(o.per_ip_exceptions, ip)) {
      // Postfix's words for smtpd_client_connection_count_limit.
      write_all(fd, "421 4.7.0 Error: too many connections from " + ip + "\r\n");
    } else {
      session_env(fd, o, remote);
      try {
        serve(fd, fd, &controls);
      } catch (std::bad_alloc const&) {
        write_all(fd, "421 out of memory (#4.3.0)\r\n");
        _exit(ex::temp);
      }
    }
    ips->leave(slot);
    ::close(fd);
    if (++served >= o.max_use) _exit(ex::ok);
    note(status, false);
  }
}

}  // namespace

bool ip_excepted(std::vector<std::string> const& exceptions, std::string const& ip) {
  for (auto const& e : exceptions) {
    if (e.empty()) continue;
    char last = e.back();
    if (last == '.' || last == ':' ? ip.compare(0, e.size(), e) == 0 : ip == e) return true;
  }
  return false;
}

bool load_listen_controls(ListenOptions* o) {
  uint64_t n;
  unsigned def = o->max / 2 ? o->max / 2 : 1;
  if (!conf::control_uint("smtpd_client_connection_count_limit", &n, def)) return false;
  o->per_ip = n > o->max ? o->max : unsigned(n);
  return conf::control_list("smtpd_client_event_limit_exceptions", &o->per_ip_exceptions);
}

int listen_and_serve(ListenOptions const& o) {
  std::string addr = o.addr == "0" ? "0.0.0.0" : o.addr;
  uint64_t port;
  if (!scan_u64(o.port, &port) || port > 65535) die(ex::perm, "bad port ", o.port.c_str());
  struct sockaddr_storage ss;
  std::memset(&ss, 0, sizeof ss);
  socklen_t len;
  if (addr.find(':') != std::string::npos) {
    auto* a = reinterpret_cast<struct sockaddr_in6*>(&ss);
    a->sin6_family = AF_INET6;
    a->sin6_port = htons(uint16_t(port));
    if (inet_pton(AF_INET6, addr.c_str(), &a->sin6_addr) != 1) die(ex::perm, "bad address ", addr.c_str());
    len = sizeof *a;
  } else {
    auto* a = reinterpret_cast<struct sockaddr_in*>(&ss);
    a->sin_family = AF_INET;
    a->sin_port = htons(uint16_t(port));
    if (inet_pton(AF_INET, addr.c_str(), &a->sin_addr) != 1) die(ex::perm, "bad address ", addr.c_str());
    len = sizeof *a;
  }
  Fd s(::socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  int one = 1;
  if (!s.ok() || ::setsockopt(s.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
      ::bind(s.get(), reinterpret_cast<struct sockaddr*>(&ss), len) < 0 || ::listen(s.get(), 128) < 0)
    die_sys(ex::temp, "unable to bind ", addr.c_str(), ":", o.port.c_str());
  if (o.drop && (::setgroups(1, &o.gid) < 0 || ::setgid(o.gid) < 0 || ::setuid(o.uid) < 0))
    die_sys(ex::temp, "unable to switch to uid ", fmt_u64(o.uid).c_str());
  // Workers' notes. The listener keeps the write end too, so the pipe never
  // reads as closed while no worker runs.
  int sp[2];
  if (::pipe2(sp, O_CLOEXEC | O_NONBLOCK) < 0) die_sys(ex::temp, "unable to create pipe");
  Fd status_r(sp[0]), status_w(sp[1]);
  SignalPipe sig;
  if (!sig.init({SIGCHLD, SIGTERM})) die_sys(ex::temp, "unable to trap signals");
  IpTable ips(o.max);
  if (!ips.ok()) die_sys(ex::temp, "unable to map the table of client IPs");
  std::vector<pid_t> slot_of(o.max, 0);  // slot -> the worker holding it
  std::map<pid_t, bool> workers;  // pid -> busy
  unsigned idle = 0;
  bool stop = false;
  for (;;) {
    // The socket is watched only when no worker is free to take a client.
    bool spawn = !stop && idle == 0 && workers.size() < o.max;
    iopause_fd x[3] = {{sig.fd(), IOPAUSE_READ, 0},
                       {status_r.get(), IOPAUSE_READ, 0},
                       {s.get(), IOPAUSE_READ, 0}};
    wait_fds(x, spawn ? 3 : 2, -1);
    int sg;
    while ((sg = sig.next()) > 0) {
      if (sg == SIGTERM && !stop) {
        stop = true;
        for (auto const& w : workers) ::kill(w.first, SIGTERM);
      }
      if (sg == SIGCHLD) {
        int st;
        pid_t p;
        while ((p = ::waitpid(-1, &st, WNOHANG)) > 0) {
          auto it = workers.find(p);
          if (it == workers.end()) continue;
          if (!it->second) idle--;
          workers.erase(it);
          for (size_t k = 0; k < slot_of.size(); k++)
            if (slot_of[k] == p) {
              slot_of[k] = 0;
              ips.leave(k);  // a worker that died in a session
            }
        }
      }
    }
    Note n[64];
    ssize_t r;
    while ((r = ::read(status_r.get(), n, sizeof n)) > 0)
      for (size_t i = 0; i < size_t(r) / sizeof(Note); i++) {
        auto it = workers.find(n[i].pid);
        if (it == workers.end() || it->second == bool(n[i].busy)) continue;
        it->second = n[i].busy;
        if (it->second) idle--;
        else idle++;
      }
    if (stop) {
      if (workers.empty()) return ex::ok;
      continue;
    }
    if (!spawn || !x[2].revents) continue;
    size_t slot = 0;
    while (slot < slot_of.size() && slot_of[slot]) slot++;
    if (slot == slot_of.size()) continue;  // cannot happen: workers < max
    pid_t p = ::fork();
    if (p == 0) {
      SignalPipe::undo_in_child();
      status_r.reset();
      worker(s.get(), status_w.get(), o, &ips, slot);
    }
    if (p < 0) {
      warn_sys("unable to fork");
      ::sleep(1);
      continue;
    }
    workers[p] = false;
    slot_of[slot] = p;
    idle++;
  }
}

}  // namespace qf::smtpd
