# qmail-queued: clients hand messages over the queue's socket (no qmail-queue
# exec), get qmail-queue's exit codes for bad input with the queue left as it
# was, fall back to exec'ing qmail-queue when no qmail-queued answers, and a
# draining queue is refused; qmail-queued leaves with qmail-send.
. "$(dirname "$0")/lib.sh"
QC=$HELPERS/qq-client
I=$T/i
new_instance "$I"
start_instance "$I"
export QMAILHOME=$I QUEUEDIR=$I/queue
[ -S "$I/queue/inject.sock" ] || fail "no socket"
expect_eq "queue root mode" "$(stat -c %a "$I/queue")" 751

# 1. The socket path: one process, byte-exact delivery.
printf 'Subject: s\n\nthrough the socket\n' > "$T/m"
out=$("$QC" s@example.org u@test.example < "$T/m"); expect_eq "socket injection" "$out" "0 socket"
wait_count 10 "$I/home/Maildir" 1 || fail "not delivered: $(tail -3 "$I/log")"
tail -n +4 "$I"/home/Maildir/new/* | cmp -s - "$T/m" || fail "bytes differ"
sed -n 3p "$I"/home/Maildir/new/* | grep -q "^Received: (qmail [0-9]* invoked by uid $(id -u)); " || fail "Received line"
strace -f -e trace=execve -o "$T/st" "$BIN/qmail-inject" u@test.example < "$T/m" || fail "qmail-inject"
expect_eq "execs for one qmail-inject" "$(grep -c 'execve(' "$T/st")" 1
wait_count 10 "$I/home/Maildir" 2 || fail "second not delivered"
ok "through qmail-queued: no qmail-queue exec, byte-exact"

# 2. 400 messages from 4 parallel clients, each delivered once.
rm -f "$I"/home/Maildir/new/*
pids=
for k in 1 2 3 4; do
  ( i=$k; while [ $i -le 400 ]; do
      printf 'Subject: p\nX-Token: q%s\n\nx\n' $i | "$QC" s@example.org u@test.example
      i=$((i + 4)); done ) > "$T/r$k" &
  pids="$pids $!"
done
wait $pids
expect_eq "all socket, all 0" "$(cat "$T"/r? | sort | uniq -c | awk '{print $1, $2, $3}')" "400 0 socket"
wait_count 60 "$I/home/Maildir" 400 || fail "delivered $(maildir_count "$I/home/Maildir") of 400"
expect_eq "each once" "$(cat "$I"/home/Maildir/new/* | grep '^X-Token: q' | sort -u | wc -l)" 400
ok "400 messages from 4 clients over the socket"

# 3. Bad input gets qmail-queue's codes and leaves the queue as it was.
wait_for 10 queue_empty "$I" || fail "queue not empty"
queue_snapshot "$I/queue" > "$T/before"
long=$(head -c 10000 /dev/zero | tr '\0' x)
expect_eq "10000-char recipient" "$("$QC" s@x "$long@example.org" < "$T/m")" "11 socket"
expect_eq "empty recipient" "$("$QC" s@x "" < "$T/m")" "91 socket"
expect_eq "unreadable message" "$("$QC" s@x u@test.example < /)" "54 socket"
sleep 0.3
queue_snapshot "$I/queue" > "$T/after"
cmp -s "$T/before" "$T/after" || { diff "$T/before" "$T/after" | head; fail "queue changed by refused messages"; }
expect_eq "still serving after errors" "$("$QC" s@x u@test.example < "$T/m")" "0 socket"
ok "refusals: 11, 91, 54; queue unchanged; next message fine"

# 3b. Two messages pipelined in one write on one connection: both answered at
# once, not the second after qmail-queued's 10 s poll (a client timing out
# there would retry and queue it twice).
"$HELPERS/queued-probe" pipe "$I/queue/inject.sock" 2 5000 > "$T/pipe" || fail "pipelined: $(cat "$T/pipe")"
expect_eq "answers to two pipelined messages" "$(cat "$T/pipe" | tr '\n' ' ')" "0 0 "
piped() { [ "$(cat "$I"/home/Maildir/new/* | grep -c '^X-Token: pipe[12]$')" = 2 ]; }
wait_for 10 piped || fail "pipelined messages not delivered"
ok "two pipelined messages answered at once"

# 4. A draining queue is refused (62); without qmail-queued, qmail-queue is exec'd.
exec 7< "$I/queue/lock/drain"
flock -x 7
expect_eq "draining queue" "$("$QC" s@x u@test.example < "$T/m")" "62 socket"
flock -u 7
exec 7<&-
ok "a drained queue refuses with 62"
qd=$(pgrep -P "$(cat "$I/pid")" -x qmail-queued)
[ -n "$qd" ] || fail "no qmail-queued under qmail-send"
qds="$qd $(pgrep -P "$qd" -x qmail-queued | tr '\n' ' ')"
stop_instance "$I"
gone() { for p in $qds; do kill -0 "$p" 2>/dev/null && return 1; done; return 0; }
wait_for 10 gone || fail "qmail-queued still runs after qmail-send"
[ ! -e "$I/queue/inject.sock" ] || fail "socket left behind"
# (the helper finds qmail-queue beside itself, as qmail-inject does in bin/)
mkdir "$T/hb"; cp "$QC" "$BIN/qmail-queue" "$T/hb/"
expect_eq "fallback" "$("$T/hb/qq-client" s@x u@test.example < "$T/m")" "0 exec"
ok "qmail-queued leaves with qmail-send; clients fall back to qmail-queue"

# 5. Disk full through qmail-queued (root: tmpfs).
if is_root && mkdir "$T/small" && mount -t tmpfs -o size=256k tmpfs "$T/small" 2>/dev/null; then
  um() { umount "$T/small" 2>/dev/null; }
  on_exit um
  J=$T/small/j
  new_instance "$J"
  start_instance "$J"
  head -c 1000000 /dev/urandom > "$T/huge"
  queue_snapshot "$J/queue" > "$T/b2"
  expect_eq "disk full" "$(QMAILHOME=$J QUEUEDIR=$J/queue "$QC" s@x u@test.example < "$T/huge")" "53 socket"
  queue_snapshot "$J/queue" > "$T/a2"
  cmp -s "$T/b2" "$T/a2" || fail "disk full left files behind"
  stop_instance "$J"
  ok "disk full through qmail-queued: 53, nothing left"
fi

# 6. qmail-queued killed: qmail-send finishes what is in flight and exits 111
# (the supervisor then restarts the queue's daemons, qmail-queued with them);
# meanwhile clients fall back to qmail-queue and nothing is lost.
K=$T/k
new_instance "$K"
start_instance "$K"
qd=$(pgrep -P "$(cat "$K/pid")" -x qmail-queued)
[ -n "$qd" ] || fail "no qmail-queued under qmail-send"
kill -KILL "$qd"
gone() { ! kill -0 "$(cat "$K/pid")" 2>/dev/null; }
wait_for 30 gone || fail "qmail-send still runs 30 s after qmail-queued died: $(tail -n 3 "$K/log")"
grep -q '^alert: oh no! lost qmail-queued connection! dying...' "$K/log" || fail "no alert: $(tail -n 5 "$K/log")"
printf 'Subject: after\n\nx\n' | inject "$K" s@x u@test.example || fail "qmail-queue without qmail-send: exit $?"
rm -f "$K/pid"
ok "qmail-queued killed: qmail-send alerts and exits for a restart; qmail-queue still queues"
