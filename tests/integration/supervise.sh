# The suite under real daemontools (svscan, supervise, svc): svc -h rereads,
# svc -a retries now, svc -t stops cleanly and supervise restarts it; kill -9 of
# qmail-send and of each daemon it runs, mid-run: restarted, nothing lost,
# duplicates only for deliveries in flight.
. "$(dirname "$0")/lib.sh"
command -v svscan >/dev/null && command -v svc >/dev/null || skip "daemontools not installed"
I=$T/i
new_instance "$I"
"$TOP/package/mkservice" -e -a 127.0.0.1 -p 1 "$I" "$T/all" || fail mkservice
mkdir "$T/service"
mv "$T/all/qmail-send" "$T/service/"
S=$T/service/qmail-send
LOG=$S/log/main/current
svscan "$T/service" > "$T/svscan.log" 2>&1 &
SVSCAN=$!
stop_svscan() { stop_daemontools "$SVSCAN" "$S"; }
on_exit stop_svscan
sendpid() { svstat "$S" | sed -n 's/.*up (pid \([0-9]*\)).*/\1/p'; }
up() { [ -n "$(sendpid)" ]; }
# restarted OLD: up again with another pid
restarted() { p=$(sendpid); [ -n "$p" ] && [ "$p" != "$1" ]; }
tokens() { cat "$M"/new/* 2>/dev/null | grep '^X-Token: k' | sort -u | wc -l; }
all_delivered() { [ "$(tokens)" = "$N" ]; }
wait_for 10 up || fail "supervise did not start qmail-send: $(svstat "$S")"
wait_for 10 grep -q 'status: local' "$LOG" 2>/dev/null || fail "no log: $(cat "$T/svscan.log")"
ok "running under supervise: $(svstat "$S")"
M=$I/home/Maildir

# svc -h: reread controls (the new concurrency shows in the status line).
echo 3 > "$I/control/concurrencylocal"
svc -h "$S"
wait_for 10 grep -q 'status: local 0/3 ' "$LOG" || fail "svc -h did not reread: $(tail -3 "$LOG")"
ok "svc -h rereads"

# svc -a: a deferred message is retried at once after the fault is fixed.
rm -rf "$M/tmp"; echo x > "$M/tmp"
printf 'Subject: a\nX-Token: alrm\n\nx\n' | inject "$I" s@example.org u@test.example || fail inject
wait_for 15 grep -q 'deferral:' "$LOG" || fail "no deferral"
rm -f "$M/tmp"; mkdir "$M/tmp"
svc -a "$S"
wait_count 15 "$M" 1 || fail "svc -a did not retry"
rm -f "$M"/new/*
ok "svc -a retries now"

# svc -t: clean exit (status: exiting), supervise starts a new one.
old=$(sendpid)
svc -t "$S"
wait_for 30 restarted "$old" || fail "not restarted after svc -t"
grep -q '^@[0-9a-f]* status: exiting$' "$LOG" || fail "no clean exit logged"
ok "svc -t: clean exit, restarted"

# kill -9 of qmail-send and of each of its daemons while mail flows.
N=300
( i=1; while [ $i -le $N ]; do
    printf 'Subject: k\nX-Token: k%s\n\nbody\n' $i | inject "$I" s@example.org u@test.example || echo "fail $i"
    i=$((i + 1)); done ) > "$T/inj" &
INJ=$!
kills=0
for victim in qmail-send todo-proc qmail-lspawn qmail-clean qmail-rspawn; do
  sleep 0.7
  wait_for 20 up || fail "qmail-send down"
  sp=$(sendpid)
  if [ $victim = qmail-send ]; then pid=$sp; else pid=$(pgrep -P "$sp" -f "$victim" | head -n 1); fi
  [ -n "$pid" ] || fail "no $victim to kill"
  kill -9 "$pid" && kills=$((kills + 1))
  wait_for 20 restarted "$sp" || fail "qmail-send not restarted after kill -9 of $victim"
done
wait $INJ
grep -q fail "$T/inj" && fail "injection failed: $(grep fail "$T/inj" | head -3)"
wait_for 120 all_delivered || fail "lost mail: $(tokens) of $N delivered; $(tail -5 "$LOG")"
total=$(cat "$M"/new/* | grep -c '^X-Token: k')
dups=$((total - N))
# In flight at a kill: at most the local concurrency (3) per kill.
[ $dups -le $((kills * 3)) ] || fail "$dups duplicates for $kills kills"
wait_for 20 queue_empty "$I" || fail "queue not empty: $(find "$I/queue" -type f ! -path "*/lock/*" | head; tail -20 "$LOG")"
ok "$kills kill -9s under load: all $N delivered, $dups duplicates (in flight)"
