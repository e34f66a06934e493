# qmail-lspawn and the qmail-local it forks killed at each of their mutating
# system calls during a Maildir delivery (reliability.md C9): a delivery cut
# before its link into new/ is retried and arrives once; one cut after it may
# arrive twice (at-least-once); the queue converges.
. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/crash.lib"
crash_daemon qmail-lspawn 2
ok "$crash_summary"
