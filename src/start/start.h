// ISC license.
// qmail-start: fork the daemons of one queue with qmail's fd map, each under
// its own uid when running as root, then exec qmail-send. See qmail-start(8).
#ifndef QF_START_START_H
#define QF_START_START_H

namespace qf::start {

/// argv: qmail-start [ defaultdelivery [ logger arg ... ] ]. Returns only on
/// failure, with qmail-start's exit code (111); prints nothing but errors.
int qmail_start(int argc, char** argv);

}  // namespace qf::start

#endif
