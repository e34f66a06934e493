# qmail-send killed at each of its mutating system calls while it delivers a
# message (reliability.md C6, C7): restarted, it delivers again what was in
# flight (at most one duplicate), never loses a message, and the queue
# converges.
. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/crash.lib"
crash_daemon qmail-send 2
ok "$crash_summary"
