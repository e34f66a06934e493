# Remote delivery under kill -9 (reliability.md C6 for the SMTP side):
# qmail-rspawn and the qmail-remote workers it forks killed at each of their
# mutating system calls (socket writes included) while a message goes to
# Postfix's smtp-sink through smtproutes. A delivery cut before the sink
# accepted it is retried; one cut after may arrive twice; none is lost; the
# queue converges.
. "$(dirname "$0")/../integration/lib.sh"
[ -x /usr/sbin/smtp-sink ] || skip "no /usr/sbin/smtp-sink (Debian package postfix)"
CRASH_RCPT=r@sink.example
CRASH_DUMPS=$T/dumps
CRASH_CALLS="openat write writev sendto sendmsg connect fsync unlink"
. "$(dirname "$0")/crash.lib"
mkdir -p "$CRASH_DUMPS"; chmod 777 "$CRASH_DUMPS"
port=$(free_port)
if is_root; then as_sink="-u nobody"; else as_sink=; fi
/usr/sbin/smtp-sink $as_sink -d "$CRASH_DUMPS/%M%S." "127.0.0.1:$port" 100 > "$T/sink.out" 2>&1 &
on_exit stop_pid $!
wait_for 10 sh -c "ss -Htln 'sport = :$port' | grep -q ." || fail "smtp-sink did not start"
echo "sink.example:127.0.0.1:$port" > "$I/control/smtproutes"
crash_daemon qmail-rspawn 2
ok "$crash_summary"
