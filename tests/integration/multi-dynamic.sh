# qscheduler -d under sustained injection with a slow delivery path: the queue
# count grows past MAX_LOAD, then shrinks by draining (stop routing, empty,
# stop) once the load falls; every message is delivered exactly once.
. "$(dirname "$0")/lib.sh"
I=$T/i
new_instance "$I"
echo 2 > "$I/control/concurrencylocal"
# Each delivery to u-slow takes a second: two per second per queue at most.
echo '|sleep 1; echo "$RECIPIENT" >> "$HOME/slow.log"' > "$I/home/.qmail-slow"
chmod 644 "$I/home/.qmail-slow"
export QUEUE_COUNT=1 QUEUE_MAX=3 MAX_LOAD=60
start_qscheduler "$I" -d
active1() { [ "$(active_queues "$I")" -ge 1 ]; }
wait_for 15 active1 || fail "not started: $(cat "$I/log")"

# About 5 messages a second for 25 seconds: more than one queue can deliver.
N=120
( i=1; while [ $i -le $N ]; do
    printf 'Subject: s\n\nslow %s\n' $i | minject "$I" s@example.org "u-slow@test.example" || echo "fail $i"
    i=$((i + 1)); sleep 0.2; done ) > "$T/inj" &
INJ=$!
grown() { [ "$(active_queues "$I")" -ge 2 ]; }
wait_for 40 grown || fail "did not grow: $(tail -5 "$I/log")"
grep -q 'every queue stayed above 60% load: adding it' "$I/log" || fail "no growth line"
ok "grew to $(active_queues "$I") queues under load"
wait $INJ
grep -q fail "$T/inj" && fail "injection failed: $(grep fail "$T/inj" | head -3)"
done_all() { [ "$(sort -u "$I/home/slow.log" 2>/dev/null | wc -l)" -ge 1 ] && [ "$(wc -l < "$I/home/slow.log")" -ge $N ]; }
wait_for 120 done_all || fail "delivered $(wc -l < "$I/home/slow.log") of $N"
# Drain: below MAX_LOAD/2 for 30 s, the top queue stops taking mail, empties, stops.
drained() { grep -q 'drained empty; stopping its daemons' "$I/log"; }
wait_for 90 drained || fail "no drain: $(tail -5 "$I/log")"
grep -n 'draining it\|drained empty\|removed from service' "$I/log" > "$T/drain"
head -n 1 "$T/drain" | grep -q 'draining it' || fail "stopped before draining: $(cat "$T/drain")"
removed() { grep -q 'removed from service' "$I/log"; }
wait_for 20 removed || fail "not removed: $(tail -5 "$I/log")"
n=$(sed -n 's/.*queue \([0-9]*\): removed from service.*/\1/p' "$I/log" | head -n 1)
[ -z "$(find "$I/base/queue$n/mess" "$I/base/queue$n/todo" -type f | head -n 1)" ] || fail "queue $n removed while not empty"
ok "queue $n drained, then removed"
expect_eq "delivered exactly once" "$(wc -l < "$I/home/slow.log")" $N
stop_qscheduler "$I"
