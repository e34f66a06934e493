# qmail-smtpd under a real tcpserver (ucspi-tcp) on 127.0.0.1, a free high
# port: a lock-step dialogue, a pipelined one, the bare-LF refusal reaching
# the client although it is still sending, exit codes in tcpserver's log, and
# (as root) the privilege drop to qmaild:nofiles.
. "$(dirname "$0")/lib.sh"
command -v tcpserver >/dev/null && command -v tcpclient >/dev/null ||
  skip "needs tcpserver and tcpclient (Debian package ucspi-tcp)"
Q=$T/queue
mkqueue "$Q" -s 7
mkdir "$T/control"
echo mx.example.org > "$T/control/me"
echo example.org > "$T/control/rcpthosts"
export QUEUEDIR=$Q CONFSPLIT=7 CONTROLDIR=$T/control QMAILQUEUE=$BIN/qmail-queue
unset RELAYCLIENT DATABYTES

# start_server [tcpserver options]: tcpserver on 127.0.0.1:$port, log in $T/ts.log.
tspid=
stop_server() { [ -n "$tspid" ] && kill "$tspid" 2>/dev/null; wait "$tspid" 2>/dev/null; tspid=; }
on_exit stop_server
start_server() {
  for try in 1 2 3 4 5; do
    port=$(free_port)
    : > "$T/ts.log"
    tcpserver -v -R -H -l0 "$@" 127.0.0.1 "$port" "$BIN/qmail-smtpd" 2>> "$T/ts.log" &
    tspid=$!
    wait_for 10 grep -q 'status: 0/' "$T/ts.log" && return 0
    stop_server
  done
  fail "tcpserver would not start: $(cat "$T/ts.log")"
}
# pipelined file: sends the file at once, then prints the replies.
pipelined() {
  tcpclient -RHl0 127.0.0.1 "$port" sh -c 'cat "$0" >&7; cat <&6' "$1" | tr -d '\r'
}
messages() { find "$Q/mess" -type f | wc -l; }
# ended_with code: tcpserver logged a session that exited with code (some
# ucspi-tcp builds log the raw wait status, code * 256).
ended_with() { wait_for 10 grep -Eq "end [0-9]+ status ($1|$(($1 * 256)))\$" "$T/ts.log"; }

start_server

# 1. Lock-step: each command waits for the reply to the one before.
tcpclient -RHl0 127.0.0.1 "$port" sh -c '
  reply() { while IFS= read -r l <&6; do echo "$l"; case $l in [0-9][0-9][0-9]-*) ;; *) break ;; esac; done; }
  say() { printf "%s\r\n" "$1" >&7; reply; }
  reply
  say "EHLO lockstep.example"
  say "MAIL FROM:<a@sender.example>"
  say "RCPT TO:<u@example.org>"
  say "DATA"
  printf "Subject: lock-step\r\n\r\n.hidden dot? no: ..two dots\r\n" >&7
  say "."
  say "QUIT"' | tr -d '\r' > "$T/out"
sed -E 's/^250 ok [0-9]+ qp [0-9]+$/250 ok TIME qp PID/' "$T/out" > "$T/got"
cat > "$T/want" <<EOF
220 mx.example.org ESMTP
250-mx.example.org
250-PIPELINING
250 8BITMIME
250 ok
250 ok
354 go ahead
250 ok TIME qp PID
221 mx.example.org
EOF
cmp -s "$T/got" "$T/want" || { diff "$T/want" "$T/got"; fail "lock-step dialogue"; }
m=$(find "$Q/mess" -type f)
sed -n 2p "$m" | grep -Eq '^Received: from unknown \(HELO lockstep\.example\) \(127\.0\.0\.1\)$' ||
  fail "Received line: $(sed -n 2p "$m")"
sed -n 3p "$m" | grep -Eq '^  by 0 with SMTP; ' || fail "Received line 2: $(sed -n 3p "$m")"
printf 'Subject: lock-step\n\nhidden dot? no: ..two dots\n' > "$T/want"
tail -n +4 "$m" | cmp -s - "$T/want" || fail "message: $(tail -n +4 "$m")"
ended_with 0 || fail "tcpserver did not log exit 0 after QUIT: $(cat "$T/ts.log")"
ok "lock-step dialogue, message queued byte-exact, exit 0"

# 2. Pipelined: three messages in one write.
{
  printf 'EHLO pipe.example\r\n'
  for i in 1 2 3; do
    printf 'MAIL FROM:<s%s@sender.example>\r\nRCPT TO:<u%s@example.org>\r\nDATA\r\nSubject: %s\r\n\r\nbody %s\r\n.\r\n' $i $i $i $i
  done
  printf 'QUIT\r\n'
} > "$T/in"
pipelined "$T/in" > "$T/out"
expect_eq "pipelined replies" "$(cut -c1-3 < "$T/out" | tr '\n' ' ')" \
  "220 250 250 250 250 250 354 250 250 250 354 250 250 250 354 250 221 "
expect_eq "pipelined messages" $(messages) 4
for i in 1 2 3; do grep -rqa "Fs$i@sender.example" "$Q/todo" || fail "message $i not queued"; done
ok "pipelined session: 3 messages"

# 3. A bare LF mid-message, with 2 MB more behind it: the client still reads
#    the 521, the connection closes, nothing is queued, exit 100.
{
  printf 'MAIL FROM:<a@b.example>\r\nRCPT TO:<u@example.org>\r\nDATA\r\nx\n.\nMAIL FROM:<evil@x>\r\n'
  head -c 2000000 /dev/zero | tr '\0' 'z'
  printf '\r\n.\r\nQUIT\r\n'
} > "$T/in"
pipelined "$T/in" > "$T/out"
expect_eq "bare LF reply" "$(tail -n 1 "$T/out")" "521 5.5.2 mx.example.org Error: bare <LF> received"
expect_eq "bare LF: nothing queued" $(messages) 4
ended_with 100 || fail "tcpserver did not log exit 100: $(cat "$T/ts.log")"
ok "bare LF under tcpserver: 521 seen by the client, exit 100"

# 4. The client disappears mid-message: nothing queued, exit 111.
printf 'MAIL FROM:<a@b.example>\r\nRCPT TO:<u@example.org>\r\nDATA\r\nhalf\r\n' > "$T/in"
tcpclient -RHl0 127.0.0.1 "$port" sh -c 'cat "$0" >&7; sleep 1' "$T/in" > /dev/null
ended_with 111 || fail "tcpserver did not log exit 111: $(cat "$T/ts.log")"
expect_eq "lost client: nothing queued" $(messages) 4
ok "lost connection mid-message: exit 111"
stop_server

# 5. As root: tcpserver drops to qmaild:nofiles before running qmail-smtpd,
#    and qmail-queue's line says the message came from the network.
if ! is_root; then
  echo "skipped the qmaild case: needs root to change uid"
  exit 0
fi
d=$(sed -n 2p "$TOP/conf-users") g=$(sed -n 2p "$TOP/conf-groups")
uid=$(id -u "$d" 2>/dev/null) gid=$(getent group "$g" | cut -d: -f3)
if [ -z "$uid" ] || [ -z "$gid" ]; then
  echo "skipped the qmaild case: no user $d or group $g (make setup creates them)"
  exit 0
fi
# In the build tree qmail-queue is not setuid: give the scratch queue to qmaild.
chown -R "$uid" "$Q"
chmod 755 "$T" "$T/control"
start_server -u "$uid" -g "$gid"
printf 'MAIL FROM:<a@b.example>\r\nRCPT TO:<qmaild@example.org>\r\nDATA\r\nas qmaild\r\n.\r\nQUIT\r\n' > "$T/in"
pipelined "$T/in" > "$T/out"
tail -n 2 "$T/out" | head -n 1 | grep -q '^250 ok ' || fail "as qmaild: $(cat "$T/out")"
m=$(grep -rla 'as qmaild' "$Q/mess")
[ -n "$m" ] || fail "as qmaild: message not queued"
sed -n 1p "$m" | grep -q '^Received: (qmail [0-9]* invoked from network); ' ||
  fail "as qmaild: $(sed -n 1p "$m")"
expect_eq "owner of the queued message" "$(stat -c %u "$m")" "$uid"
ok "under tcpserver -u $d -g $g"
exit 0
