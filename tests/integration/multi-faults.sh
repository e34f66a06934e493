# Multi-queue faults: kill -9 of a queue's qmail-send, of a todo-proc and of
# qscheduler itself while mail flows (restarted, never two qmail-send on one
# queue, nothing lost); a full message queue (todo-proc stopped) never blocks
# qmail-queue; two instances with different QUEUE_BASE do not see each other.
. "$(dirname "$0")/lib.sh"
I=$T/i
new_instance "$I"
export QUEUE_COUNT=2
start_qscheduler "$I" -d -n
active2() { [ "$(active_queues "$I")" = 2 ]; }
wait_for 15 active2 || fail "not started: $(cat "$I/log")"
M=$I/home/Maildir
sendpid() { QMAILHOME=$I QUEUE_BASE=$I/base "$BIN/qscheduler" -l | awk -v q="$1" '$1 == q { print $3 }'; }
restarted() { p=$(sendpid "$1"); [ -n "$p" ] && [ "$p" != - ] && [ "$p" != "$2" ]; }

N=400
( i=1; while [ $i -le $N ]; do
    printf 'Subject: f\nX-Token: f%s\n\nbody\n' $i | minject "$I" s@example.org u@test.example || echo "fail $i"
    i=$((i + 1)); sleep 0.01; done ) > "$T/inj" &
INJ=$!
sleep 1
# kill -9 of queue 1's qmail-send: qscheduler restarts the queue.
s1=$(sendpid 1); kill -9 "$s1" || fail "kill qmail-send"
wait_for 20 restarted 1 "$s1" || fail "queue 1 not restarted: $(tail -5 "$I/log")"
grep -q "queue 1: qmail-start pid $s1 killed by signal 9 .*restarting in" "$I/log" || fail "no restart line"
ok "qmail-send of queue 1 killed and restarted"
# kill -9 of queue 2's todo-proc: its qmail-send dies too; the queue restarts.
s2=$(sendpid 2)
t2=$(pgrep -P "$s2" -x todo-proc); [ -n "$t2" ] || fail "no todo-proc"
kill -9 "$t2"
wait_for 20 restarted 2 "$s2" || fail "queue 2 not restarted after its todo-proc died"
ok "todo-proc of queue 2 killed; queue restarted"
# kill -9 of qscheduler: its queues run on; a new qscheduler takes them over.
old=$(cat "$I/qspid")
kill -9 "$old"
sleep 0.5
start_qscheduler "$I" -d -n
sends_on() { for p in $(pgrep -x qmail-send); do tr '\0' '\n' < /proc/$p/environ 2>/dev/null | grep -qx "QUEUEDIR=$I/base/queue$1" && echo $p; done | wc -l; }
# Through the takeover there is never more than one qmail-send on a queue.
taken_over() {
  for q in 1 2; do [ "$(sends_on $q)" -le 1 ] || { echo "two qmail-send on queue $q" > "$T/two"; return 1; }; done
  QMAILHOME=$I QUEUE_BASE=$I/base "$BIN/qscheduler" -l 2>/dev/null | head -n 1 | grep -q "^qscheduler pid $(cat "$I/qspid")," && active2
}
wait_for 30 taken_over || fail "new qscheduler did not take over: $(cat "$T/two" 2>/dev/null) $(tail -8 "$I/log")"
[ ! -f "$T/two" ] || fail "$(cat "$T/two") during the takeover"
for q in 1 2; do expect_eq "qmail-send processes on queue $q" "$(sends_on $q)" 1; done
ok "qscheduler killed and restarted: one qmail-send per queue"
wait $INJ
grep -q fail "$T/inj" && fail "injection failed: $(grep fail "$T/inj" | head -3)"
tokens() { cat "$M"/new/* 2>/dev/null | grep '^X-Token: f' | sort -u | wc -l; }
all() { [ "$(tokens)" = $N ]; }
wait_for 120 all || fail "lost mail: $(tokens) of $N"
total=$(cat "$M"/new/* | grep -c '^X-Token: f')
[ $((total - N)) -le 30 ] || fail "$((total - N)) duplicates"
wait_for 20 base_empty "$I" || fail "queues not empty"
ok "all $N delivered after the kills ($((total - N)) duplicates from deliveries in flight)"

# A full message queue: todo-proc of queue 1 stopped, 30 injections (the
# queue holds 10 notes here) each return at once and are delivered after CONT.
rm -f "$M"/new/*
t1=$(pgrep -P "$(sendpid 1)" -x todo-proc)
kill -STOP "$t1"
export QUEUE_COUNT=1
start=$(date +%s)
for i in $(seq 30); do
  printf 'Subject: q\nX-Token: q%s\n\nx\n' $i | QUEUEDIR= minject "$I" s@example.org u@test.example || fail "inject $i"
done
secs=$(( $(date +%s) - start ))
[ $secs -le 10 ] || fail "30 injections took $secs s with todo-proc stopped"
kill -CONT "$t1"
wait_count 90 "$M" 30 || fail "after CONT: $(maildir_count "$M") of 30"
ok "full message queue: 30 injections in ${secs}s, all delivered after CONT"
stop_qscheduler "$I"

# Two instances: their IPC names differ, and neither lists the other's queues.
J=$T/j
new_instance "$J"
export QUEUE_COUNT=1
start_qscheduler "$I" -d -n
start_qscheduler "$J" -d -n
both() { [ "$(active_queues "$I")" = 1 ] && [ "$(active_queues "$J")" = 1 ]; }
wait_for 15 both || fail "two instances: $(tail -3 "$I/log") / $(tail -3 "$J/log")"
pi=$(QMAILHOME=$I QUEUE_BASE=$I/base "$BIN/qscheduler" -l | head -n 1)
pj=$(QMAILHOME=$J QUEUE_BASE=$J/base "$BIN/qscheduler" -l | head -n 1)
echo "$pi" | grep -q "^qscheduler pid $(cat "$I/qspid")," || fail "instance I lists another qscheduler: $pi"
echo "$pj" | grep -q "^qscheduler pid $(cat "$J/qspid")," || fail "instance J lists another qscheduler: $pj"
ok "two instances, two segments"
stop_qscheduler "$I"
stop_qscheduler "$J"
