// ISC license.
// Proves the libowfat quarantine: one binary that writes through skalibs'
// buffer and strerr and resolves literal addresses through libowfat's dns_ip4.
// Linked naively (-lskarnet -lowfat) this prints 55.55.55.55 or crashes.
#include <string>
#include <vector>

#include "owfat/resolve.h"
#include "sys/skalibs.h"
#include "sys/strerr.h"

char const* PROG = "owfat-linkcheck";

int main(int argc, char** argv) {
  std::string line;
  for (int i = 1; i < argc; i++) {
    std::vector<std::string> addrs;
    if (qf::dns::ip4(argv[i], &addrs) != qf::dns::Result::ok) qf::die(111, "unable to resolve ", argv[i]);
    for (auto const& a : addrs) line += a + " ";
  }
  if (!line.empty()) line.back() = '\n';
  qf::warn("skalibs strerr works in the same binary");
  if (buffer_putsflush(buffer_1, line.c_str()) < 0) qf::die_sys(111, "unable to write to stdout");
  return 0;
}
