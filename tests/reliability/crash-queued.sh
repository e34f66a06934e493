# qmail-queued's worker killed at each of its mutating system calls while it
# commits a message from a client: the client never gets 0 for a message
# that is not queued; one killed before the todo/ link is never delivered,
# one killed after it is delivered once; the supervisor replaces the worker;
# the queue converges.
. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/crash.lib"
: > "$T/queued"; : > "$T/refused"
crash_injector qmail-queued
ok "$crash_summary"
