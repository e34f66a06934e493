# Issue 11, defect 5: clients that trickle one byte a second cannot hold
# qmail-smtpd's sessions. With timeoutsmtpd 3 (a whole command line, not each
# read: smtpd_per_request_deadline) every trickling session ends with 451
# within seconds, under tcpserver too; under -L -c 20, one IP gets at most 10
# sessions (smtpd_client_connection_count_limit), so a client from another
# address is served while 20 trickle from 127.0.0.1.
. "$(dirname "$0")/../integration/lib.sh"
command -v tcpclient >/dev/null || skip "needs tcpclient (Debian package ucspi-tcp)"
Q=$T/queue
mkqueue "$Q"
mkdir "$T/control"
echo mx.example.org > "$T/control/me"
echo example.org > "$T/control/rcpthosts"
echo 3 > "$T/control/timeoutsmtpd"
export QUEUEDIR=$Q CONTROLDIR=$T/control QMAILQUEUE=$BIN/qmail-queue
unset RELAYCLIENT DATABYTES

# trickle n: a client that sends "HELO aaaa..." one byte a second for 30 s
# and records what it hears.
trickle() {
  tcpclient -RHl0 -i 127.0.0.1 127.0.0.1 "$port" sh -c '
    cat <&6 > "$0" &
    i=0; while [ $i -lt 30 ]; do printf a >&7 || exit 0; sleep 1; i=$((i + 1)); done' "$T/slow.$1" 2>/dev/null &
}

port=$(free_port)
"$BIN/qmail-smtpd" -L -c 20 127.0.0.1 "$port" 2> "$T/l.err" &
L=$!
on_exit stop_pid $L
wait_for 10 sh -c "ss -Htln 'sport = :$port' | grep -q ." || fail "listener: $(cat "$T/l.err")"
pids=
for i in $(seq 1 20); do trickle $i; pids="$pids $!"; done
sleep 1
# Another address, while 20 sessions from 127.0.0.1 trickle.
printf 'HELO ok.example\r\nMAIL FROM:<s@sender.example>\r\nRCPT TO:<u@example.org>\r\nDATA\r\nSubject: served\r\n\r\nx\r\n.\r\nQUIT\r\n' > "$T/in"
timeout 20 tcpclient -RHl0 -i 127.0.0.2 127.0.0.1 "$port" sh -c 'cat "$0" >&7; cat <&6' "$T/in" | tr -d '\r' > "$T/out"
grep -q '^250 ok [0-9]* qp' "$T/out" || fail "client from 127.0.0.2 not served during the trickle: $(cat "$T/out")"
# Within a few seconds of timeoutsmtpd every trickling session has ended.
ended() { [ "$(cat "$T"/slow.* 2>/dev/null | grep -c '^451 timeout\|^421 4.7.0')" -ge 20 ]; }
wait_for 15 ended || fail "trickling sessions still open: $(cat "$T"/slow.* | tr -d '\r' | sort | uniq -c)"
refused=$(cat "$T"/slow.* | grep -c '^421 4.7.0 Error: too many connections')
timedout=$(cat "$T"/slow.* | grep -c '^451 timeout')
expect_eq "trickling sessions refused by the per-IP limit" "$refused" 10
expect_eq "trickling sessions ended by the request deadline" "$timedout" 10
for p in $pids; do stop_pid $p; done
ok "-L -c 20: 10 of 20 trickling sessions refused (per IP), 10 cut at timeoutsmtpd; 127.0.0.2 served"

# Under tcpserver (no -L): no per-IP limit here, but the deadline still holds.
stop_pid $L
port=$(free_port)
tcpserver -R -H -l mx.example.org 127.0.0.1 "$port" "$BIN/qmail-smtpd" 2> "$T/ts.err" &
S=$!
on_exit stop_pid $S
wait_for 10 sh -c "ss -Htln 'sport = :$port' | grep -q ." || fail "tcpserver: $(cat "$T/ts.err")"
rm -f "$T"/slow.*
trickle 1; p=$!
wait_for 15 sh -c "grep -q '^451 timeout' $T/slow.1 2>/dev/null" || fail "tcpserver session not cut: $(cat "$T/slow.1")"
stop_pid $p
ok "under tcpserver a trickling session ends with 451 at timeoutsmtpd"
