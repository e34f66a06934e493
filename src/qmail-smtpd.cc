// ISC license.
// qmail-smtpd: receive mail via SMTP. See qmail-smtpd(8).
#include <new>

#include "smtpd/server.h"
#include "sys/exitcodes.h"
#include "sys/fs.h"
#include "sys/strerr.h"

char const* PROG = "qmail-smtpd";

int main(int argc, char**) {
  if (argc > 1) qf::die_usage("qmail-smtpd");
  try {
    return qf::smtpd::serve(0, 1);
  } catch (std::bad_alloc const&) {
    qf::write_all(1, "421 out of memory (#4.3.0)\r\n");
    return qf::ex::temp;
  }
}
