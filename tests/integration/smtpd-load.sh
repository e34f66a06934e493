# Postfix's smtp-source into qmail-smtpd under tcpserver: 1,000 messages over
# 8 sessions that each carry many messages (-d), then 200 messages with one
# connection each; every message must be queued, each exactly once. The rates
# are printed for information only (no test asserts a wall time).
. "$(dirname "$0")/lib.sh"
SOURCE=$(command -v smtp-source || echo /usr/sbin/smtp-source)
[ -x "$SOURCE" ] || skip "needs smtp-source (Debian package postfix)"
command -v tcpserver >/dev/null || skip "needs tcpserver (Debian package ucspi-tcp)"
Q=$T/queue
mkqueue "$Q"
mkdir "$T/control"
echo mx.example.org > "$T/control/me"
echo example.org > "$T/control/rcpthosts"
export QUEUEDIR=$Q CONTROLDIR=$T/control QMAILQUEUE=$BIN/qmail-queue
unset RELAYCLIENT DATABYTES

tspid=
stop_server() { [ -n "$tspid" ] && kill "$tspid" 2>/dev/null; wait "$tspid" 2>/dev/null; tspid=; }
on_exit stop_server
for try in 1 2 3 4 5; do
  port=$(free_port)
  : > "$T/ts.log"
  tcpserver -v -R -H -l0 -c 40 127.0.0.1 "$port" "$BIN/qmail-smtpd" 2>> "$T/ts.log" &
  tspid=$!
  wait_for 10 grep -q "status: 0/" "$T/ts.log" && break
  stop_server
done
[ -n "$tspid" ] || fail "tcpserver would not start: $(cat "$T/ts.log")"

now() { date +%s.%N; }
rate() { awk -v n="$1" -v a="$2" -v b="$3" 'BEGIN { printf "%d messages in %.2f s: %.0f msg/s", n, b - a, n / (b - a) }'; }
todo_count() { find "$Q/todo" -type f | wc -l; }

# 1. 1,000 messages, 8 sessions, connections reused.
t0=$(now)
"$SOURCE" -s 8 -m 1000 -d -l 2000 -M client.example -f sender@client.example \
  -t rcpt@example.org "127.0.0.1:$port" > "$T/source.out" 2>&1 || fail "smtp-source: $(tail -n 5 "$T/source.out")"
t1=$(now)
expect_eq "messages queued by 8 sessions" $(todo_count) 1000
expect_eq "message files" $(find "$Q/mess" -type f | wc -l) 1000
expect_eq "every envelope has our recipient" "$(grep -rla 'Trcpt@example.org' "$Q/todo" | wc -l)" 1000
ok "smtp-source -s 8 -m 1000 -d: $(rate 1000 "$t0" "$t1")"

# 2. 200 messages, 8 at a time, a new connection (and qmail-smtpd) for each.
t0=$(now)
"$SOURCE" -s 8 -m 200 -l 2000 -M client.example -f sender@client.example \
  -t rcpt@example.org "127.0.0.1:$port" > "$T/source.out" 2>&1 || fail "smtp-source: $(tail -n 5 "$T/source.out")"
t1=$(now)
expect_eq "messages queued, one connection each" $(todo_count) 1200
ok "smtp-source -s 8 -m 200 (one connection per message): $(rate 200 "$t0" "$t1")"

# The body arrived whole: smtp-source sends 2000 bytes of payload per message.
m=$(find "$Q/mess" -type f | head -n 1)
sed -n 2p "$m" | grep -q '^Received: from unknown (HELO client.example) (127.0.0.1)$' || fail "Received: $(sed -n 2p "$m")"
expect_eq "sessions ended with QUIT" "$(grep -c " end [0-9]* status 0$" "$T/ts.log")" 208
exit 0
