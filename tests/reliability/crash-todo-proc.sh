# todo-proc killed at each of its mutating system calls while it pre-processes
# a message (reliability.md C5): restarted, it redoes the message from todo/;
# every message delivered exactly once, the queue converges.
. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/crash.lib"
crash_daemon todo-proc 1
ok "$crash_summary"
