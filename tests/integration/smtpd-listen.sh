# qmail-smtpd -L, its own listener: tcpserver's variables reach the session,
# a worker serves one session after another (the same pid, no fork per
# connection), a worker leaves after -m sessions and after -i idle seconds,
# never more than -c workers however many clients wait, a client wakes one
# idle worker rather than all, TERM lets a session
# in progress finish its message, and bad options or a taken port give the
# documented exit codes.
. "$(dirname "$0")/lib.sh"
command -v tcpclient >/dev/null || skip "needs tcpclient (Debian package ucspi-tcp)"
Q=$T/queue
mkqueue "$Q" -s 7
mkdir "$T/control"
echo mx.example.org > "$T/control/me"
echo example.org > "$T/control/rcpthosts"
# The per-IP limit has its own section (6); the others count workers.
echo 0 > "$T/control/smtpd_client_connection_count_limit"
export QUEUEDIR=$Q CONFSPLIT=7 CONTROLDIR=$T/control QMAILQUEUE=$BIN/qmail-queue
unset RELAYCLIENT DATABYTES TCPREMOTEIP TCPLOCALIP TCPLOCALHOST

lpid=
stop_listener() { [ -n "$lpid" ] && kill "$lpid" 2>/dev/null; wait "$lpid" 2>/dev/null; lpid=; }
on_exit stop_listener
# start_listener [options]: qmail-smtpd -L on 127.0.0.1:$port.
start_listener() {
  for try in 1 2 3 4 5; do
    port=$(free_port)
    "$BIN/qmail-smtpd" -L "$@" 127.0.0.1 "$port" 2> "$T/l.err" &
    lpid=$!
    wait_for 10 sh -c "ss -Htln 'sport = :$port' | grep -q ." && return 0
    stop_listener
  done
  fail "qmail-smtpd -L would not listen: $(cat "$T/l.err")"
}
workers() { pgrep -P "$lpid" | sort; }
nworkers() { pgrep -P "$lpid" | wc -l; }
messages() { find "$Q/mess" -type f | wc -l; }
# session n: one message from s<n>, then QUIT; prints the replies.
session() {
  printf 'HELO c%s.example\r\nMAIL FROM:<s%s@sender.example>\r\nRCPT TO:<u@example.org>\r\nDATA\r\nSubject: %s\r\n\r\nbody\r\n.\r\nQUIT\r\n' \
    "$1" "$1" "$1" > "$T/in.$1"
  tcpclient -RHl0 127.0.0.1 "$port" sh -c 'cat "$0" >&7; cat <&6' "$T/in.$1" | tr -d '\r'
}

# 1. Sessions one after another are served by one worker, and each message
#    carries the client's address (TCPREMOTEIP set by the listener).
start_listener -c 4
session 1 > "$T/out"
expect_eq "first session" "$(cut -c1-3 < "$T/out" | tr '\n' ' ')" "220 250 250 250 354 250 221 "
w1=$(workers)
expect_eq "workers after one session" "$(echo "$w1" | grep -c .)" 1
for i in 2 3 4 5 6; do session $i > "$T/out"; tail -n 2 "$T/out" | head -n 1 | grep -q '^250 ok' || fail "session $i: $(cat "$T/out")"; done
expect_eq "the same worker served six sessions" "$(workers)" "$w1"
expect_eq "six messages" $(messages) 6
for m in $(find "$Q/mess" -type f); do
  sed -n 2p "$m" | grep -Eq '^Received: from unknown \(HELO c[1-6]\.example\) \(127\.0\.0\.1\)$' ||
    fail "Received line: $(sed -n 2p "$m")"
done
ok "six sessions in a row, one worker ($w1), client address in each Received line"

# 2. At most -c workers: 4 clients that hold their connection open get 4
#    workers; a 5th waits for one of them instead of making a 5th worker.
holders=
for i in 1 2 3 4 5; do
  tcpclient -RHl0 127.0.0.1 "$port" sh -c 'head -n 1 <&6 > "$0"; sleep 3; printf "QUIT\r\n" >&7; cat <&6 > /dev/null' "$T/hold.$i" &
  holders="$holders $!"
done
wait_for 10 sh -c "[ \$(pgrep -P $lpid | wc -l) -eq 4 ]" || fail "want 4 workers, have $(nworkers)"
sleep 1
expect_eq "workers with 5 clients and -c 4" "$(nworkers)" 4
greeted=$(cat "$T"/hold.* | grep -c '^220')
expect_eq "clients greeted while 4 workers are busy" "$greeted" 4
wait $holders
expect_eq "every client greeted in the end" "$(cat "$T"/hold.* | grep -c '^220')" 5
ok "-c 4: 4 workers for 5 clients, the 5th served when one is free"

# 2b. A client wakes one idle worker, not all of them (EPOLLEXCLUSIVE): of the
#     4 idle workers, those that ran at all in 2 sessions are at most 2. With
#     every idle worker woken per client (poll), all 4 would have run.
switches() { for w in $(workers); do echo "$w $(sed -n 's/^voluntary_ctxt_switches:[[:space:]]*//p' /proc/$w/status)"; done; }
expect_eq "idle workers before the 2 sessions" "$(nworkers)" 4
switches > "$T/sw.before"
for i in 7 8; do session $i > "$T/out"; tail -n 2 "$T/out" | head -n 1 | grep -q '^250 ok' || fail "session $i: $(cat "$T/out")"; done
switches > "$T/sw.after"
woke=$(join "$T/sw.before" "$T/sw.after" | awk '$2 != $3' | wc -l)
[ "$woke" -ge 1 ] && [ "$woke" -le 2 ] ||
  fail "2 clients woke $woke of 4 idle workers (before: $(tr '\n' ' ' < "$T/sw.before"); after: $(tr '\n' ' ' < "$T/sw.after"))"
ok "2 clients woke $woke of 4 idle workers"
stop_listener

# 3. -m 2: a worker leaves after its second session; -i 1: an idle worker
#    leaves after a second without clients.
start_listener -c 4 -m 2 -i 1
session 1 > /dev/null
w1=$(workers)
expect_eq "one worker" "$(echo "$w1" | grep -c .)" 1
session 2 > /dev/null
wait_for 10 sh -c "! kill -0 $w1 2>/dev/null" || fail "worker $w1 outlived -m 2"
session 3 > /dev/null
w3=$(workers)
[ -n "$w3" ] && [ "$w3" != "$w1" ] || fail "session 3 not served by a new worker ($w1 → $w3)"
wait_for 10 sh -c "[ -z \"\$(pgrep -P $lpid)\" ]" || fail "idle worker $w3 outlived -i 1"
expect_eq "messages with -m 2" $(messages) 11
session 4 > "$T/out"
tail -n 2 "$T/out" | head -n 1 | grep -q '^250 ok' || fail "after the workers left: $(cat "$T/out")"
ok "-m 2 retires a worker after two sessions, -i 1 an idle one; a new client still gets a worker"
stop_listener

# 4. TERM during a session: the message in progress is still accepted, then
#    the listener exits 0.
start_listener
rm -f "$T/go" "$T/ready"
tcpclient -RHl0 127.0.0.1 "$port" sh -c '
  exec 3>"$0"
  reply() { while IFS= read -r l <&6; do echo "$l" >&3; case $l in [0-9][0-9][0-9]-*) ;; *) break ;; esac; done; }
  say() { printf "%s\r\n" "$1" >&7; reply; }
  reply
  say "HELO term.example"
  say "MAIL FROM:<t@sender.example>"
  say "RCPT TO:<u@example.org>"
  : > "$1"
  while [ ! -e "$2" ]; do sleep 0.1; done
  say "DATA"
  printf "Subject: during TERM\r\n\r\nbody\r\n" >&7
  say "."
  say "QUIT"' "$T/term.out" "$T/ready" "$T/go" &
cpid=$!
wait_for 10 test -e "$T/ready" || fail "client did not get through RCPT: $(cat "$T/term.out")"
kill -TERM "$lpid"
sleep 0.5
kill -0 "$lpid" 2>/dev/null || fail "listener exited with a session in progress"
: > "$T/go"
wait "$cpid"
tr -d '\r' < "$T/term.out" | grep -q '^250 ok [0-9]* qp [0-9]*$' || fail "message during TERM: $(cat "$T/term.out")"
wait_for 10 sh -c "! kill -0 $lpid 2>/dev/null" || fail "listener still running after the session"
wait "$lpid"; rc=$?; lpid=
expect_eq "listener exit code after TERM" "$rc" 0
grep -rqa 'during TERM' "$Q/mess" || fail "message sent during TERM not queued"
ok "TERM: the session in progress finishes its message, then exit 0"

# 6. smtpd_client_connection_count_limit (default -c / 2): with -c 4, a third
#    session from one IP is refused with 421 while two run; another IP is
#    served; an IP in smtpd_client_event_limit_exceptions is not limited.
rm -f "$T/control/smtpd_client_connection_count_limit"
start_listener -c 4
hold() {  # hold n ip: a client from ip that keeps its session 3 s
  tcpclient -RHl0 -i "$2" 127.0.0.1 "$port" sh -c 'head -n 1 <&6 > "$0"; sleep 3; printf "QUIT\r\n" >&7; cat <&6 > /dev/null' "$T/ip.$1" &
}
rm -f "$T"/ip.*
hold 1 127.0.0.1; h1=$!; hold 2 127.0.0.1; h2=$!
wait_for 10 sh -c "[ \$(cat $T/ip.1 $T/ip.2 2>/dev/null | grep -c '^220') = 2 ]" || fail "two sessions from 127.0.0.1 not greeted"
hold 3 127.0.0.1; h3=$!
wait_for 10 sh -c "grep -q . $T/ip.3 2>/dev/null" || fail "no answer to the third session"
expect_eq "third session from one IP" "$(tr -d '\r' < "$T/ip.3")" "421 4.7.0 Error: too many connections from 127.0.0.1"
hold 4 127.0.0.2; h4=$!
wait_for 10 sh -c "grep -q . $T/ip.4 2>/dev/null" || fail "no answer to 127.0.0.2"
grep -q '^220 ' "$T/ip.4" || fail "127.0.0.2 refused: $(cat "$T/ip.4")"
wait $h1 $h2 $h3 $h4
stop_listener
echo 127. > "$T/control/smtpd_client_event_limit_exceptions"
start_listener -c 4
rm -f "$T"/ip.*
hold 1 127.0.0.1; h1=$!; hold 2 127.0.0.1; h2=$!; hold 3 127.0.0.1; h3=$!
wait_for 10 sh -c "[ \$(cat $T/ip.? 2>/dev/null | grep -c '^220') = 3 ]" || fail "excepted IP limited: $(cat "$T"/ip.?)"
wait $h1 $h2 $h3
stop_listener
rm -f "$T/control/smtpd_client_event_limit_exceptions"
ok "per-IP limit: 2 of -c 4 from one IP, the third 421, another IP served, exceptions honoured"

# 5. Bad usage is 100; a port already taken is 111.
"$BIN/qmail-smtpd" -L -m 0 127.0.0.1 2525 2> "$T/err"; rc=$?
expect_eq "-m 0" "$rc" 100
"$BIN/qmail-smtpd" -L -i x 127.0.0.1 2525 2> "$T/err"; rc=$?
expect_eq "-i x" "$rc" 100
start_listener
"$BIN/qmail-smtpd" -L 127.0.0.1 "$port" 2> "$T/err"; rc=$?
expect_eq "port taken" "$rc" 111
grep -q 'unable to bind' "$T/err" || fail "port taken: $(cat "$T/err")"
ok "usage errors exit 100, a taken port 111"
exit 0
