// ISC license.
// qmail-rspawn: schedule remote deliveries. See qmail-rspawn(8).
#include "remote/rspawn.h"
#include "sys/skalibs.h"

char const* PROG = "qmail-rspawn";

int main() { return qf::remote::rspawn_defer_all(); }
