# qmail-queue killed at each of its mutating system calls (reliability.md
# C1-C4): killed before the todo/ link, the message is never delivered and
# its leftovers are swept; killed after it, the message is queued and
# delivered once (its client saw a failure and may queue it again: qmail's
# one duplicate). The queue converges; queue-fix -N finds nothing.
. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/crash.lib"
: > "$T/queued"; : > "$T/refused"
crash_injector qmail-queue
ok "$crash_summary"
