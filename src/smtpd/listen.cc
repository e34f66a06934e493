// ISC license.
#include "smtpd/listen.h"

#include <arpa/inet.h>
#include <errno.h>
#include <grp.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>

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

void session(int fd, ListenOptions const& o) {
  struct sockaddr_storage local, remote;
  socklen_t ll = sizeof local, rl = sizeof remote;
  uint16_t lport = 0, rport = 0;
  std::string lip, rip;
  if (::getsockname(fd, reinterpret_cast<struct sockaddr*>(&local), &ll) == 0) lip = ip_text(local, &lport);
  if (::getpeername(fd, reinterpret_cast<struct sockaddr*>(&remote), &rl) == 0) rip = ip_text(remote, &rport);
  // tcpserver's variables, which qmail-smtpd reads (-H -R: no name lookups).
  ::setenv("PROTO", "TCP", 1);
  ::setenv("TCPLOCALIP", lip.c_str(), 1);
  ::setenv("TCPLOCALPORT", fmt_u64(lport).c_str(), 1);
  ::setenv("TCPREMOTEIP", rip.c_str(), 1);
  ::setenv("TCPREMOTEPORT", fmt_u64(rport).c_str(), 1);
  if (!o.local_host.empty() && o.local_host != "0")
    ::setenv("TCPLOCALHOST", o.local_host.c_str(), 1);
  _exit(serve(fd, fd));
}

}  // namespace

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
  SignalPipe sig;
  if (!sig.init({SIGCHLD, SIGTERM})) die_sys(ex::temp, "unable to trap signals");
  unsigned children = 0;
  bool stop = false;
  for (;;) {
    iopause_fd x[2] = {{sig.fd(), IOPAUSE_READ, 0}, {s.get(), IOPAUSE_READ, 0}};
    bool take = !stop && children < o.max;
    wait_fds(x, take ? 2 : 1, -1);
    int sg;
    while ((sg = sig.next()) > 0) {
      if (sg == SIGTERM) stop = true;
      if (sg == SIGCHLD) {
        int st;
        while (::waitpid(-1, &st, WNOHANG) > 0) children--;
      }
    }
    if (stop) {
      if (!children) return ex::ok;
      continue;
    }
    if (!take || !x[1].revents) continue;
    while (children < o.max) {
      int fd = ::accept4(s.get(), nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) break;
      pid_t p = ::fork();
      if (p == 0) {
        SignalPipe::undo_in_child();
        s.reset();
        session(fd, o);
      }
      ::close(fd);
      if (p > 0) children++;
    }
  }
}

}  // namespace qf::smtpd
