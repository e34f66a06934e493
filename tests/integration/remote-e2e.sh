# End to end through the daemons: qmail-start (embedded, one user) runs
# qmail-send, todo-proc, qmail-clean and qmail-rspawn on a scratch queue with
# smtproutes to smtp-sink (qmail-lspawn too, idle: no local mail here). 1 message x 1,000 recipients and 100 one-recipient
# messages are injected with qmail-queue; every recipient must arrive, the
# 1,000 in ceil(1000/50) = 20 transactions, the 100 over connections kept
# from before (reuse), and the queue must drain.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/remote-common"

port=$(free_port)
start_sink sink "$port" -c
echo ":127.0.0.1:$port" > "$CONTROLDIR/smtproutes"
echo qfleet.test > "$CONTROLDIR/locals"
echo 20 > "$CONTROLDIR/concurrencyremote"

# The daemons find their siblings next to /proc/self/exe: a private bin/.
mkdir "$T/bin"
cp "$BIN"/* "$T/bin/"
export QMAILHOME=$T
"$T/bin/qmail-start" ./Mailbox > "$T/log" 2>&1 &
start_pid=$!
stop_start() { kill "$start_pid" 2>/dev/null; wait "$start_pid" 2>/dev/null; }
on_exit stop_start
wait_for 10 grep -q "status: local 0/" "$T/log" || fail "qmail-send did not start: $(cat "$T/log")"

now() { date +%s.%N; }
printf 'Subject: to a list\n\nhello, many\n' > "$T/big"
i=0; set --
while [ $i -lt 1000 ]; do set -- "$@" "r$i@list.example"; i=$((i + 1)); done
t0=$(now)
envelope owner@qfleet.test "$@" > "$T/env"
"$BIN/qmail-queue" < "$T/big" 1< "$T/env" || fail "qmail-queue exit $?"
delivered() { [ "$(grep -c 'delivery [0-9]*: success' "$T/log")" -ge "$1" ]; }
wait_for 60 delivered 1000 || fail "only $(grep -c 'delivery [0-9]*: success' "$T/log") of 1000 delivered: $(tail -n 5 "$T/log")"
t1=$(now)
sleep 0.5
eval "$(counters sink)"
expect_eq "transactions for 1000 recipients" "$mesg" 20
c=$(connections sink "$port")
# qmail-send hands out the 20 batches at once (concurrencyremote 20): up to
# 20 connections in parallel, each then cached.
[ "$c" -ge 1 ] && [ "$c" -le 20 ] || fail "$c connections for 20 transactions"
echo "1 x 1000: $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f s", b - a }'), 20 transactions, $c connections"

before=$c
t0=$(now)
j=0
while [ $j -lt 100 ]; do
  envelope "s$j@qfleet.test" "u$j@other.example" > "$T/env"
  printf 'Subject: one %s\n\nbody\n' $j | "$BIN/qmail-queue" 1< "$T/env" || fail "qmail-queue $j"
  j=$((j + 1))
done
wait_for 120 delivered 1100 || fail "only $(grep -c 'delivery [0-9]*: success' "$T/log") of 1100 delivered"
t1=$(now)
sleep 0.5
eval "$(counters sink)"
expect_eq "messages at the sink" "$mesg" 120
c=$(connections sink "$port")
echo "100 x 1: $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f s", b - a }'), $((c - before)) new connections"
# The cached connections carry the next messages.
[ $((c - before)) -le 20 ] || fail "no connection reuse: $((c - before)) new connections for 100 messages"
grep -q "delivery [0-9]*: success: 127.0.0.1_accepted_message./Remote_host_said:_250_2.0.0_Ok/" "$T/log" ||
  fail "log line: $(grep -m1 'delivery' "$T/log")"
# The queue drains: no channel files, no messages.
wait_for 20 sh -c "[ -z \"\$(find '$QUEUEDIR/remote' '$QUEUEDIR/info' '$QUEUEDIR/mess' -type f)\" ]" ||
  fail "queue not drained: $(find "$QUEUEDIR/remote" "$QUEUEDIR/mess" -type f | head -3)"
ok "1100 recipients delivered through qmail-send and qmail-rspawn; queue drained"
