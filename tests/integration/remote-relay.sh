# The relay path end to end: Postfix's smtp-source (8 sessions, 1,000
# messages) into qmail-smtpd under tcpserver, qmail-queue, then qmail-send
# and qmail-rspawn relay everything to smtp-sink by smtproutes. Every message
# must be queued and delivered exactly once, over reused connections, and the
# queue must drain. The rate is printed for information only.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/remote-common"
SOURCE=$(command -v smtp-source || echo /usr/sbin/smtp-source)
[ -x "$SOURCE" ] || skip "needs smtp-source (Debian package postfix)"
command -v tcpserver >/dev/null || skip "needs tcpserver (Debian package ucspi-tcp)"
[ -x "$BIN/qmail-smtpd" ] || skip "no bin/qmail-smtpd"

sport=$(free_port)
start_sink sink "$sport" -c
echo "sink.example:127.0.0.1:$sport" > "$CONTROLDIR/smtproutes"
echo sink.example > "$CONTROLDIR/rcpthosts"
echo qfleet.test > "$CONTROLDIR/locals"
echo 20 > "$CONTROLDIR/concurrencyremote"
unset RELAYCLIENT DATABYTES

mkdir "$T/bin"
cp "$BIN"/* "$T/bin/"
export QMAILHOME=$T QMAILQUEUE=$T/bin/qmail-queue
"$T/bin/qmail-start" ./Mailbox > "$T/log" 2>&1 &
start_pid=$!
tspid=
stop_all() {
  [ -n "$tspid" ] && kill "$tspid" 2>/dev/null
  kill "$start_pid" 2>/dev/null; wait "$start_pid" 2>/dev/null
}
on_exit stop_all
wait_for 10 grep -q "status: local 0/" "$T/log" || fail "qmail-send did not start: $(cat "$T/log")"

for try in 1 2 3 4 5; do
  port=$(free_port)
  : > "$T/ts.log"
  tcpserver -v -R -H -l0 -c 40 127.0.0.1 "$port" "$T/bin/qmail-smtpd" 2>> "$T/ts.log" &
  tspid=$!
  wait_for 10 grep -q "status: 0/" "$T/ts.log" && break
  kill "$tspid" 2>/dev/null; tspid=
done
[ -n "$tspid" ] || fail "tcpserver would not start: $(cat "$T/ts.log")"

now() { date +%s.%N; }
t0=$(now)
"$SOURCE" -s 8 -m 1000 -d -l 2048 -M client.example -f sender@client.example \
  -t rcpt@sink.example "127.0.0.1:$port" > "$T/source.out" 2>&1 || fail "smtp-source: $(tail -n 5 "$T/source.out")"
sunk() { eval "$(counters sink)"; [ "${mesg:-0}" -ge 1000 ]; }
wait_for 120 sunk || fail "only ${mesg:-0} of 1000 messages reached the sink: $(tail -n 3 "$T/log")"
t1=$(now)
expect_eq "success lines" "$(grep -c 'delivery [0-9]*: success: 127.0.0.1_accepted_message' "$T/log")" 1000
sleep 1
eval "$(counters sink)"
expect_eq "messages at the sink (no duplicates)" "$mesg" 1000
c=$(connections sink "$sport")
[ "$c" -le 100 ] || fail "$c connections for 1000 messages: no reuse"
wait_for 20 sh -c "[ -z \"\$(find '$QUEUEDIR/remote' '$QUEUEDIR/mess' '$QUEUEDIR/todo' -type f)\" ]" ||
  fail "queue not drained"
ok "$(awk -v a="$t0" -v b="$t1" -v c="$c" 'BEGIN { printf "1000 messages relayed in %.2f s (%.0f msg/s) over %d connections", b - a, 1000 / (b - a), c }')"
