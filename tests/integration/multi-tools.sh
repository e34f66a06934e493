# qscheduler under daemontools (package/mkservice -q), qtop's one-shot table,
# qmonitor's lines, and qscheduler -o: deliver what is queued, then exit.
. "$(dirname "$0")/lib.sh"
command -v svscan >/dev/null || skip "daemontools not installed"
I=$T/i
new_instance "$I"
QUEUE_COUNT=2 QUEUE_BASE=$I/base "$TOP/package/mkservice" -e -q s -a 127.0.0.1 -p 1 "$I" "$T/all" || fail mkservice
mkdir "$T/service"; mv "$T/all/qscheduler" "$T/service/"
S=$T/service/qscheduler
svscan "$T/service" > /dev/null 2>&1 &
SV=$!
stop_sv() { stop_daemontools "$SV" "$S"; }
on_exit stop_sv
two() { [ "$(active_queues "$I")" = 2 ]; }
wait_for 20 two || fail "qscheduler under supervise: $(cat "$S/log/main/current" 2>/dev/null | tail -5)"
ok "qscheduler -s under supervise: 2 queues active"

QMAILHOME=$I QUEUE_BASE=$I/base "$BIN/qtop" -1 > "$T/qtop" || fail "qtop -1"
grep -q '^QUEUE  *STATE  *LOAD  *LOCAL  *REMOTE  *TODO  *QUEUED  *BACKLOG  *DELIV/S$' "$T/qtop" || fail "qtop header: $(cat "$T/qtop")"
grep -q '^1  *active ' "$T/qtop" && grep -q '^2  *active ' "$T/qtop" || fail "qtop rows: $(cat "$T/qtop")"
QMAILHOME=$I QUEUE_BASE=$I/base "$BIN/qmonitor" -i 1 -c 1 > "$T/qmon" || fail "qmonitor"
expect_eq "qmonitor lines" "$(grep -c '^queue [12]: active load [0-9]*% local [0-9]*/10 remote [0-9]*/100 ' "$T/qmon")" 2
ok "qtop -1 and qmonitor report both queues"

# svc -h reaches every qmail-send through qscheduler.
echo 4 > "$I/control/concurrencylocal"
svc -h "$S"
reread() { [ "$(grep -c 'status: local 0/4 ' "$S/log/main/current")" -ge 2 ]; }
wait_for 10 reread || fail "HUP not forwarded to both queues"
ok "svc -h forwarded to every queue"
stop_daemontools "$SV" "$S"
gone() { ! QMAILHOME=$I QUEUE_BASE=$I/base "$BIN/qscheduler" -l >/dev/null 2>&1; }
wait_for 20 gone || fail "qscheduler still running after svc -d"

# -o: mail queued while nothing runs is delivered, then qscheduler exits.
for i in 1 2 3 4 5 6; do
  printf 'Subject: o\nX-Token: o%s\n\nx\n' $i | QUEUE_COUNT=2 minject "$I" s@example.org u@test.example || fail inject
done
QFLEET_EMBEDDED=1 QMAILHOME=$I QUEUE_BASE=$I/base QUEUE_COUNT=2 timeout 60 "$BIN/qscheduler" -o ./Maildir/ > "$T/once" 2>&1
expect_eq "qscheduler -o exit" $? 0
expect_eq "delivered by -o" "$(cat "$I"/home/Maildir/new/* | grep -c '^X-Token: o')" 6
grep -q 'once: every queue is empty; stopping' "$T/once" || fail "no once line: $(tail -3 "$T/once")"
ok "qscheduler -o delivered what was queued and exited"
