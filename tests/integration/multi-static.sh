# qscheduler -s with 3 queues: 1,200 messages from 4 injectors spread over all
# three queues and are all delivered exactly once; -l lists every queue with
# its daemons; TERM stops everything and removes the IPC objects.
. "$(dirname "$0")/lib.sh"
I=$T/i
new_instance "$I"
export QUEUE_COUNT=3
start_qscheduler "$I" -s
active3() { [ "$(active_queues "$I")" = 3 ]; }
wait_for 15 active3 || fail "queues not active: $(cat "$I/log")"
QMAILHOME=$I QUEUE_BASE=$I/base "$BIN/qscheduler" -l > "$T/list" || fail "qscheduler -l"
for n in 1 2 3; do
  grep -q "^$n  *active .*todo-proc [0-9]*" "$T/list" || fail "queue $n not listed with its daemons: $(cat "$T/list")"
done
ok "3 queues active and listed"

N=1200
pids=
for k in 1 2 3 4; do
  ( i=$k; while [ $i -le $N ]; do
      printf 'Subject: m\nX-Token: s%s\n\nbody\n' $i | minject "$I" s@example.org u@test.example || echo "fail $i"
      i=$((i + 4)); done ) > "$T/inj$k" &
  pids="$pids $!"
done
wait $pids
cat "$T"/inj? | grep -q fail && fail "injection failed"
M=$I/home/Maildir
wait_count 240 "$M" $N || fail "delivered $(maildir_count "$M") of $N"
expect_eq "each once" "$(cat "$M"/new/* | grep '^X-Token: s' | sort -u | wc -l)" $N
# Every queue took a share: count the deliveries per QIDENT suffix in the log.
for n in 1 2 3; do
  c=$(grep -c "^delivery [0-9]*\.$n: success" "$I/log")
  [ "$c" -gt $((N / 10)) ] || fail "queue $n delivered only $c"
done
wait_for 20 base_empty "$I" || fail "queues not empty"
ok "$N messages over 3 queues, all delivered once"

stop_qscheduler "$I"
grep -q 'every queue stopped; exiting' "$I/log" || fail "no clean exit: $(tail -3 "$I/log")"
p=$(QMAILHOME=$I QUEUE_BASE=$I/base "$BIN/qscheduler" -l 2>&1); expect_eq "-l after exit" $? 1
ok "TERM stops every queue and removes the segment"
