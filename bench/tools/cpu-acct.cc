// ISC license.
// CPU time of one system during one benchmark round, per process name.
//
//   cpu-acct CGROUP
//
// CGROUP is the directory of a cgroup (v1 cpuacct or v2) that the system's
// processes are started in. cpu-acct listens to the kernel's taskstats exit
// records (netlink, every CPU) until it gets TERM or INT; each exiting task
// that belongs to the system is added to its name's line. A task belongs if
// it was seen in CGROUP/cgroup.procs (polled every 100 ms) or its parent is
// in the cgroup (/proc/PPID/cgroup), so forked-and-exited workers
// (qmail-local, Postfix's local) count under their own names. On TERM it
// adds every process still in the cgroup (taskstats by tgid: all its
// threads) and prints, one line each, CPU since it started (less what each
// process and the cgroup had used when cpu-acct started):
//
//   proc NAME exited|live COUNT USER_US SYS_US
//   total USAGE_US        the cgroup's own counter (cpuacct.usage or cpu.stat)
//   lost N                exit records the socket dropped (0 if none)
//
// The difference between total and the sum of the proc lines is CPU of tasks
// it could not attribute (an orphan whose parent had gone). Needs root
// (taskstats listeners need CAP_NET_ADMIN). Exits 0, 100 usage, 111 trouble.
#include <errno.h>
#include <fcntl.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <linux/taskstats.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <map>
#include <set>
#include <string>
#include <vector>

namespace {

struct Sum {
  long count = 0;
  unsigned long long user_us = 0, sys_us = 0;
};

std::string cgroup_dir, cgroup_rel;  // the directory, and its path as /proc/PID/cgroup shows it
std::set<int> members;               // pids seen in cgroup.procs
std::map<std::pair<std::string, bool>, Sum> sums;  // (name, live) -> sum
long lost = 0;

[[noreturn]] void fatal(char const* what) {
  fprintf(stderr, "cpu-acct: fatal: %s: %s\n", what, strerror(errno));
  exit(111);
}

std::string slurp(std::string const& path) {
  std::string s;
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return s;
  char buf[4096];
  ssize_t r;
  while ((r = read(fd, buf, sizeof buf)) > 0) s.append(buf, r);
  close(fd);
  return s;
}

std::vector<int> cgroup_procs() {
  std::vector<int> v;
  std::string s = slurp(cgroup_dir + "/cgroup.procs");
  char const* p = s.c_str();
  while (*p) {
    char* e;
    long n = strtol(p, &e, 10);
    if (e == p) break;
    v.push_back(int(n));
    p = e;
    while (*p == '\n') ++p;
  }
  return v;
}

void poll_members() {
  for (int pid : cgroup_procs()) members.insert(pid);
}

// in_cgroup pid: true if /proc/PID/cgroup names our cgroup on some line.
bool in_cgroup(int pid) {
  std::string s = slurp("/proc/" + std::to_string(pid) + "/cgroup");
  size_t at = 0;
  while (at < s.size()) {
    size_t nl = s.find('\n', at);
    if (nl == std::string::npos) nl = s.size();
    size_t colon = s.rfind(':', nl);
    if (colon != std::string::npos && colon >= at && s.compare(colon + 1, nl - colon - 1, cgroup_rel) == 0)
      return true;
    at = nl + 1;
  }
  return false;
}

// --- generic netlink ---------------------------------------------------------

struct Msg {
  nlmsghdr n;
  genlmsghdr g;
  char buf[1024];
};

void add_attr(Msg& m, unsigned short type, void const* data, size_t len) {
  nlattr* a = reinterpret_cast<nlattr*>(reinterpret_cast<char*>(&m) + NLMSG_ALIGN(m.n.nlmsg_len));
  a->nla_type = type;
  a->nla_len = NLA_HDRLEN + len;
  memcpy(reinterpret_cast<char*>(a) + NLA_HDRLEN, data, len);
  m.n.nlmsg_len = NLMSG_ALIGN(m.n.nlmsg_len) + NLA_ALIGN(a->nla_len);
}

void send_msg(int fd, unsigned short family, unsigned char cmd, unsigned short type,
              void const* data, size_t len) {
  Msg m;
  memset(&m, 0, sizeof m);
  m.n.nlmsg_len = NLMSG_LENGTH(GENL_HDRLEN);
  m.n.nlmsg_type = family;
  m.n.nlmsg_flags = NLM_F_REQUEST;
  m.n.nlmsg_pid = getpid();
  m.g.cmd = cmd;
  m.g.version = 1;
  add_attr(m, type, data, len);
  sockaddr_nl to{};
  to.nl_family = AF_NETLINK;
  if (sendto(fd, &m, m.n.nlmsg_len, 0, reinterpret_cast<sockaddr*>(&to), sizeof to) < 0) fatal("sendto netlink");
}

int nl_socket() {
  int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_GENERIC);
  if (fd < 0) fatal("socket netlink");
  sockaddr_nl a{};
  a.nl_family = AF_NETLINK;
  if (bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) < 0) fatal("bind netlink");
  return fd;
}

// Calls f(type, data, len) for each attribute in [p, p + len).
template <class F>
void each_attr(char const* p, size_t len, F f) {
  while (len >= NLA_HDRLEN) {
    nlattr const* a = reinterpret_cast<nlattr const*>(p);
    if (a->nla_len < NLA_HDRLEN || a->nla_len > len) return;
    f(a->nla_type & NLA_TYPE_MASK, p + NLA_HDRLEN, size_t(a->nla_len - NLA_HDRLEN));
    size_t step = NLA_ALIGN(a->nla_len);
    if (step >= len) return;
    p += step;
    len -= step;
  }
}

unsigned short taskstats_family(int fd) {
  char const name[] = TASKSTATS_GENL_NAME;
  send_msg(fd, GENL_ID_CTRL, CTRL_CMD_GETFAMILY, CTRL_ATTR_FAMILY_NAME, name, sizeof name);
  static char buf[8192];
  ssize_t r = recv(fd, buf, sizeof buf, 0);
  if (r < 0) fatal("recv netlink");
  nlmsghdr const* n = reinterpret_cast<nlmsghdr const*>(buf);
  if (!NLMSG_OK(n, size_t(r)) || n->nlmsg_type == NLMSG_ERROR) {
    errno = ENOENT;
    fatal("no taskstats family");
  }
  unsigned short id = 0;
  each_attr(buf + NLMSG_HDRLEN + GENL_HDRLEN, n->nlmsg_len - NLMSG_HDRLEN - GENL_HDRLEN,
            [&](int type, char const* d, size_t) {
              if (type == CTRL_ATTR_FAMILY_ID) memcpy(&id, d, 2);
            });
  if (!id) { errno = ENOENT; fatal("no taskstats family id"); }
  return id;
}

// For each AGGR_PID / AGGR_TGID record in one netlink datagram: f(is_tgid, stats).
template <class F>
void each_record(char const* buf, ssize_t r, F f) {
  for (nlmsghdr const* n = reinterpret_cast<nlmsghdr const*>(buf); NLMSG_OK(n, size_t(r)); n = NLMSG_NEXT(n, r)) {
    if (n->nlmsg_type == NLMSG_ERROR || n->nlmsg_type == NLMSG_DONE) continue;
    char const* p = reinterpret_cast<char const*>(n) + NLMSG_HDRLEN + GENL_HDRLEN;
    each_attr(p, n->nlmsg_len - NLMSG_HDRLEN - GENL_HDRLEN, [&](int type, char const* d, size_t len) {
      if (type != TASKSTATS_TYPE_AGGR_PID && type != TASKSTATS_TYPE_AGGR_TGID) return;
      each_attr(d, len, [&](int t2, char const* d2, size_t len2) {
        if (t2 != TASKSTATS_TYPE_STATS) return;
        taskstats ts{};
        memcpy(&ts, d2, len2 < sizeof ts ? len2 : sizeof ts);
        f(type == TASKSTATS_TYPE_AGGR_TGID, ts);
      });
    });
  }
}

std::string name_of(taskstats const& ts) {
  char c[TS_COMM_LEN + 1] = {};
  memcpy(c, ts.ac_comm, TS_COMM_LEN);
  for (char* q = c; *q; ++q)
    if (*q == ' ' || *q == '\t') *q = '_';
  return c;
}

struct Live {
  std::string name;
  unsigned long long user_us = 0, sys_us = 0;
};
std::map<int, Live> base;  // usage of each process when cpu-acct started

std::map<int, bool> parent_member;  // cache: ppid -> in the cgroup

void on_exit_record(taskstats const& ts) {
  int pid = int(ts.ac_pid), ppid = int(ts.ac_ppid);
  bool member = members.count(pid) > 0;
  if (!member && ppid > 1) {
    auto it = parent_member.find(ppid);
    if (it == parent_member.end()) it = parent_member.emplace(ppid, members.count(ppid) > 0 || in_cgroup(ppid)).first;
    member = it->second;
  }
  if (!member) return;
  Sum& s = sums[{name_of(ts), false}];
  auto b = base.find(pid);
  unsigned long long u0 = b == base.end() ? 0 : b->second.user_us, s0 = b == base.end() ? 0 : b->second.sys_us;
  s.count++;
  s.user_us += ts.ac_utime > u0 ? ts.ac_utime - u0 : 0;
  s.sys_us += ts.ac_stime > s0 ? ts.ac_stime - s0 : 0;
}

// live_usage q family: (name, user_us, sys_us) of every process in the
// cgroup now, all its threads since it started.
std::map<int, Live> live_usage(int q, unsigned short fam) {
  std::map<int, Live> out;
  static char buf[1 << 14];
  for (int pid : cgroup_procs()) {
    unsigned int tgid = pid;
    send_msg(q, fam, TASKSTATS_CMD_GET, TASKSTATS_CMD_ATTR_TGID, &tgid, sizeof tgid);
    ssize_t r = recv(q, buf, sizeof buf, 0);
    if (r < 0) continue;
    // A tgid record has no name: the one in /proc.
    std::string comm = slurp("/proc/" + std::to_string(pid) + "/comm");
    while (!comm.empty() && comm.back() == '\n') comm.pop_back();
    for (char& c : comm)
      if (c == ' ' || c == '\t') c = '_';
    if (comm.empty()) comm = "?";
    each_record(buf, r, [&](bool, taskstats const& ts) {
      Live& l = out[pid];
      l.name = comm;
      l.user_us += ts.ac_utime;
      l.sys_us += ts.ac_stime;
    });
  }
  return out;
}

unsigned long long cgroup_usage_us() {
  std::string s = slurp(cgroup_dir + "/cpuacct.usage");
  if (!s.empty()) return strtoull(s.c_str(), nullptr, 10) / 1000;
  s = slurp(cgroup_dir + "/cpu.stat");
  size_t at = s.find("usage_usec ");
  if (at != std::string::npos) return strtoull(s.c_str() + at + 11, nullptr, 10);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: cpu-acct CGROUP\n");
    return 100;
  }
  cgroup_dir = argv[1];
  // The path inside its hierarchy: what follows the mount point.
  {
    std::string mounts = slurp("/proc/self/mountinfo");
    size_t best = 0;
    size_t at = 0;
    while (at < mounts.size()) {
      size_t nl = mounts.find('\n', at);
      if (nl == std::string::npos) nl = mounts.size();
      std::string line = mounts.substr(at, nl - at);
      at = nl + 1;
      // id parent maj:min root mountpoint ...
      char mp[512];
      if (sscanf(line.c_str(), "%*s %*s %*s %*s %511s", mp) != 1) continue;
      if (line.find(" - cgroup") == std::string::npos) continue;
      std::string m = mp;
      if (cgroup_dir.compare(0, m.size(), m) == 0 && cgroup_dir.size() > m.size() && cgroup_dir[m.size()] == '/' && m.size() > best) {
        best = m.size();
        cgroup_rel = cgroup_dir.substr(m.size());
      }
    }
    if (cgroup_rel.empty()) { errno = EINVAL; fatal("not a cgroup directory below a cgroup mount"); }
  }

  sigset_t ss;
  sigemptyset(&ss);
  sigaddset(&ss, SIGTERM);
  sigaddset(&ss, SIGINT);
  sigprocmask(SIG_BLOCK, &ss, nullptr);
  int sfd = signalfd(-1, &ss, SFD_CLOEXEC);
  if (sfd < 0) fatal("signalfd");

  int ev = nl_socket();
  int rcv = 16 << 20;
  setsockopt(ev, SOL_SOCKET, SO_RCVBUFFORCE, &rcv, sizeof rcv);
  unsigned short fam = taskstats_family(ev);
  long ncpu = sysconf(_SC_NPROCESSORS_CONF);
  std::string mask = "0-" + std::to_string(ncpu > 0 ? ncpu - 1 : 0);
  send_msg(ev, fam, TASKSTATS_CMD_GET, TASKSTATS_CMD_ATTR_REGISTER_CPUMASK, mask.c_str(), mask.size() + 1);
  poll_members();
  // The baseline: what the cgroup and its processes had used before now.
  int q = nl_socket();
  base = live_usage(q, fam);
  unsigned long long total0 = cgroup_usage_us();
  // Ready: the caller may start the system now.
  printf("ready\n");
  fflush(stdout);

  static char buf[1 << 16];
  for (;;) {
    pollfd p[2] = {{ev, POLLIN, 0}, {sfd, POLLIN, 0}};
    int n = poll(p, 2, 100);
    if (n < 0 && errno != EINTR) fatal("poll");
    poll_members();
    if (n > 0 && (p[0].revents & POLLIN)) {
      for (;;) {
        ssize_t r = recv(ev, buf, sizeof buf, MSG_DONTWAIT);
        if (r < 0) {
          if (errno == ENOBUFS) { lost++; continue; }
          break;
        }
        each_record(buf, r, [](bool tgid, taskstats const& ts) {
          if (!tgid) on_exit_record(ts);  // per task; a TGID record repeats its threads
        });
      }
    }
    if (n > 0 && (p[1].revents & POLLIN)) break;
  }
  // Drain what is queued, then the live processes.
  for (;;) {
    ssize_t r = recv(ev, buf, sizeof buf, MSG_DONTWAIT);
    if (r < 0) { if (errno == ENOBUFS) { lost++; continue; } break; }
    each_record(buf, r, [](bool tgid, taskstats const& ts) { if (!tgid) on_exit_record(ts); });
  }
  unsigned long long total = cgroup_usage_us();
  for (auto const& [pid, l] : live_usage(q, fam)) {
    Sum& s = sums[{l.name, true}];
    auto b = base.find(pid);
    unsigned long long u0 = b == base.end() ? 0 : b->second.user_us, s0 = b == base.end() ? 0 : b->second.sys_us;
    s.count++;
    s.user_us += l.user_us > u0 ? l.user_us - u0 : 0;
    s.sys_us += l.sys_us > s0 ? l.sys_us - s0 : 0;
  }
  for (auto const& [k, s] : sums)
    printf("proc %s %s %ld %llu %llu\n", k.first.c_str(), k.second ? "live" : "exited", s.count, s.user_us, s.sys_us);
  printf("total %llu\nlost %ld\n", total > total0 ? total - total0 : 0, lost);
  return 0;
}
