// ISC license.
// qmail-start: turn on mail delivery for one queue. See qmail-start(8).
#include "start/start.h"
#include "sys/skalibs.h"

char const* PROG = "qmail-start";

int main(int argc, char** argv) { return qf::start::qmail_start(argc, argv); }
