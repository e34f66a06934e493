// ISC license.
// Control files (conf/control.h) and what the programs build from them:
// rcpthosts and badmailfrom (smtpd::HostList), smtproutes (addr::Routes),
// locals, virtualdomains and percenthack (addr::Rewriter). The reader only
// reads files, so each input is written to a file of a private CONTROLDIR
// made once per run. Input: file contents NUL probe NUL probe ...; the probes
// are addresses and domains looked up in what was built.
// max_len: 2048 (tests/fuzz/run passes it to libFuzzer)
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "conf/control.h"
#include "fuzz.h"
#include "addr/address.h"
#include "addr/rewrite.h"
#include "addr/routes.h"
#include "smtpd/policy.h"

namespace {

std::string dir;

void remove_dir() {
  if (dir.empty()) return;
  ::unlink((dir + "/x").c_str());
  ::rmdir(dir.c_str());
}

void put_file(std::string_view data) {
  std::string fn = dir + "/x";
  int fd = ::open(fn.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  FUZZ_CHECK(fd >= 0);
  size_t off = 0;
  while (off < data.size()) {
    ssize_t w = ::write(fd, data.data() + off, data.size() - off);
    FUZZ_CHECK(w > 0);
    off += size_t(w);
  }
  ::close(fd);
}

bool trimmed(std::string_view s) {
  return s.empty() || (s.front() != ' ' && s.front() != '\t' && s.back() != ' ' &&
                       s.back() != '\t' && s.back() != '\r');
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  char const* base = ::access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
  std::string t = std::string(base) + "/qfleet-fuzz-control.XXXXXX";
  FUZZ_CHECK(::mkdtemp(t.data()) != nullptr);
  dir = t;
  ::atexit(remove_dir);
  ::setenv("CONTROLDIR", dir.c_str(), 1);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(uint8_t const* data, size_t size) {
  std::string_view in(reinterpret_cast<char const*>(data), size);
  std::string_view content = qf::fuzz::take_until_nul(&in);
  std::vector<std::string> probes;
  while (!in.empty()) probes.emplace_back(qf::fuzz::take_until_nul(&in));
  put_file(content);

  std::string line;
  FUZZ_CHECK(qf::conf::control_line("x", &line, "default"));
  FUZZ_CHECK(!line.empty() && line.find('\n') == std::string::npos && trimmed(line));
  uint64_t u = 0;
  if (qf::conf::control_uint("x", &u, 7) && line == "default") FUZZ_CHECK(u == 7);
  std::vector<std::string> list;
  FUZZ_CHECK(qf::conf::control_list("x", &list));
  for (auto const& l : list) {
    FUZZ_CHECK(!l.empty() && l[0] != '#' && l.find('\n') == std::string::npos && trimmed(l));
    FUZZ_CHECK(content.find(l) != std::string_view::npos);
  }

  // rcpthosts and badmailfrom
  qf::smtpd::HostList hosts(true, list);
  for (auto const& p : probes) {
    bool allowed = qf::smtpd::rcpt_allowed(hosts, p);
    FUZZ_CHECK(allowed || p.find('@') != std::string::npos);
    (void)qf::smtpd::sender_refused(hosts, p);
  }

  // smtproutes
  qf::addr::Routes routes;
  size_t bad = 0;
  routes.parse(list, &bad);
  FUZZ_CHECK(routes.size() + bad <= list.size());
  for (auto const& p : probes) {
    qf::addr::RouteEntry const* e = routes.match(p);
    if (e) {
      std::string d = qf::addr::lower(p);
      FUZZ_CHECK(e->port != 0);
      FUZZ_CHECK(e->domain.empty() || (d.size() >= e->domain.size() &&
                                       d.compare(d.size() - e->domain.size(), std::string::npos, e->domain) == 0));
    }
    qf::addr::Route r = qf::addr::route_for(routes, qf::addr::lower(p));
    (void)r.key();
    std::string lit;
    if (qf::addr::parse_literal(p, &lit)) FUZZ_CHECK(!lit.empty());
  }

  // locals, virtualdomains, percenthack
  qf::addr::Rewriter rw;
  rw.set_envnoathost("envnoathost.example");
  for (size_t i = 0; i < list.size(); i++) {
    switch (i % 3) {
      case 0: rw.add_virtual(list[i]); break;
      case 1: rw.add_local(list[i]); break;
      case 2: rw.add_percenthack(list[i]); break;
    }
  }
  for (auto const& p : probes) {
    qf::addr::Rewritten w = rw.rewrite(p);
    FUZZ_CHECK(w.addr.find('@') != std::string::npos);
    (void)rw.strip_virtual_prefix(w.addr);
  }
  return 0;
}
