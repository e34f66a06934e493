# smtp-source (8 sessions, 1,000 messages) into qmail-smtpd under tcpserver,
# queued and delivered to a local Maildir, each message exactly once.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/remote-common"
unset CONTROLDIR QMAILHOME QUEUEDIR
SOURCE=$(command -v smtp-source || echo /usr/sbin/smtp-source)
[ -x "$SOURCE" ] || skip "needs smtp-source (Debian package postfix)"
command -v tcpserver >/dev/null || skip "needs tcpserver (Debian package ucspi-tcp)"
I=$T/i
new_instance "$I"
echo test.example > "$I/control/rcpthosts"
start_instance "$I"
port=$(free_port)
QMAILHOME=$I QUEUEDIR=$I/queue tcpserver -R -H -l test.example 127.0.0.1 "$port" "$BIN/qmail-smtpd" > "$T/tcpserver.log" 2>&1 &
TS=$!
stop_ts() { kill $TS 2>/dev/null; }
on_exit stop_ts
sleep 0.5
t0=$(date +%s.%N)
"$SOURCE" -s 8 -m 1000 -l 2000 -f s@example.org -t u@test.example "127.0.0.1:$port" || fail "smtp-source"
M=$I/home/Maildir
wait_count 120 "$M" 1000 || fail "delivered $(maildir_count "$M") of 1000"
t1=$(date +%s.%N)
expect_eq "distinct messages" "$(grep -h '^Received: (qmail [0-9]* invoked by uid' "$M"/new/* | sort -u | wc -l)" 1000
wait_for 20 queue_empty "$I" || fail "queue not empty"
ok "$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "1000 messages over SMTP into the Maildir in %.2f s (%.0f msg/s)", b - a, 1000 / (b - a) }')"
