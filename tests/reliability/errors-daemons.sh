# Error injection (reliability.md R2, R4, R6, R7): one failure at each
# fallible system call of todo-proc, qmail-send, both qmail-cleans and
# qmail-lspawn/qmail-local while a message goes through: ENOSPC from writes,
# EIO from syncs, links and unlinks, EMFILE from opens, ENOMEM from forks.
# Each is a deferral or a restart, never a loss: every message arrives (a
# second copy only where a delivery was in flight), the queue converges and
# queue-fix -N finds nothing.
. "$(dirname "$0")/../integration/lib.sh"
CRASH_ERRORS=1
. "$(dirname "$0")/crash.lib"
for d in todo-proc qmail-send 'qmail-clean#1' 'qmail-clean#2' qmail-lspawn; do
  crash_daemon "$d" 2
done
ok "$crash_summary"
