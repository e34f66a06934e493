// ISC license.
// qmail-smtpd: receive mail via SMTP. See qmail-smtpd(8).
#include <unistd.h>

#include <new>

#include "smtpd/listen.h"
#include "smtpd/server.h"
#include "sys/exitcodes.h"
#include "sys/fs.h"
#include "sys/strerr.h"

char const* PROG = "qmail-smtpd";

namespace {
constexpr char kUsage[] =
    "qmail-smtpd\n"
    "       qmail-smtpd -L [ -c max ] [ -m maxuse ] [ -i maxidle ] [ -u uid -g gid ] [ -l localname ] host port";
}

int main(int argc, char** argv) {
  using namespace qf;
  if (argc == 1) {
    try {
      return smtpd::serve(0, 1);
    } catch (std::bad_alloc const&) {
      write_all(1, "421 out of memory (#4.3.0)\r\n");
      return ex::temp;
    }
  }
  // Its own listener instead of tcpserver (see LISTENING in qmail-smtpd(8)).
  smtpd::ListenOptions o;
  bool listen = false, have_uid = false, have_gid = false;
  int opt;
  while ((opt = getopt(argc, argv, "Lc:m:i:u:g:l:")) != -1) {
    uint64_t n;
    switch (opt) {
      case 'L': listen = true; break;
      case 'c':
        if (!scan_u64(optarg, &n) || n < 1 || n > 100000) die_usage(kUsage);
        o.max = unsigned(n);
        break;
      case 'm':
        if (!scan_u64(optarg, &n) || n < 1 || n > 1000000) die_usage(kUsage);
        o.max_use = unsigned(n);
        break;
      case 'i':
        if (!scan_u64(optarg, &n) || n < 1 || n > 86400) die_usage(kUsage);
        o.max_idle = unsigned(n);
        break;
      case 'u':
        if (!scan_u64(optarg, &n)) die_usage(kUsage);
        o.uid = uid_t(n);
        have_uid = true;
        break;
      case 'g':
        if (!scan_u64(optarg, &n)) die_usage(kUsage);
        o.gid = gid_t(n);
        have_gid = true;
        break;
      case 'l': o.local_host = optarg; break;
      default: die_usage(kUsage);
    }
  }
  if (!listen || argc - optind != 2 || have_uid != have_gid) die_usage(kUsage);
  o.drop = have_uid;
  o.addr = argv[optind];
  o.port = argv[optind + 1];
  if (!smtpd::load_listen_controls(&o)) die_sys(ex::temp, "unable to read controls");
  return smtpd::listen_and_serve(o);
}
