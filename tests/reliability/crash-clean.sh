# Each qmail-clean killed at each of its mutating system calls while a message
# goes through (#1 removes a finished message for qmail-send, #2 todo/ and
# intd/ for todo-proc): the set restarts, nothing is lost or delivered twice,
# and the queue converges.
. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/crash.lib"
crash_daemon 'qmail-clean#1' 1
crash_daemon 'qmail-clean#2' 1
ok "$crash_summary"
