# qmail-rspawn driven through the spawn protocol (tests/helpers/rspawn-drive
# plays qmail-send): 1 message x 1,000 recipients arrives at smtp-sink as
# ceil(1000/50) = 20 transactions over fewer connections (reuse), the idle
# time and reuse-count limits close connections, and the message file checks.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/remote-common"

port=$(free_port)
d=$(dumpdir dump)
start_sink sink "$port" -c -d "$d%M%S."
echo ":127.0.0.1:$port" > "$CONTROLDIR/smtproutes"
printf 'Subject: many\n\nto a thousand\n' > "$T/msg"
id=$(queue_message "$T/msg" list@qfleet.test r0@example.com)
[ -n "$id" ] || fail "no message id"

# 20 commands of 50 recipients, as qmail-send batches them (kRemoteBatch).
i=0
while [ $i -lt 20 ]; do
  line="$id list@qfleet.test"
  j=0
  while [ $j -lt 50 ]; do line="$line r$((i * 50 + j))@example.com"; j=$((j + 1)); done
  echo "$line"
  i=$((i + 1))
done > "$T/script"
"$DRIVE" -c 4 "$BIN/qmail-rspawn" < "$T/script" > "$T/out" 2> "$T/err" || fail "rspawn-drive: $(cat "$T/err")"
expect_eq "slots line" "$(head -n 1 "$T/out")" "slots 500"
expect_eq "exit line" "$(tail -n 1 "$T/out")" "exit 0"
expect_eq "K reports" "$(grep -c "^$id r[0-9]*@example.com K 127.0.0.1 accepted message" "$T/out")" 1000
wait_for 10 sh -c "[ \$(ls '$d' | wc -l) -ge 20 ]" || fail "only $(ls "$d" | wc -l) transactions dumped"
sleep 0.5
expect_eq "transactions" "$(ls "$d" | wc -l)" 20
expect_eq "recipients" "$(cat "$d"* | grep -c '^X-Rcpt-Args:')" 1000
expect_eq "distinct recipients" "$(cat "$d"* | grep '^X-Rcpt-Args:' | sort -u | wc -l)" 1000
for f in "$d"*; do
  expect_eq "recipients in $(basename "$f")" "$(grep -c '^X-Rcpt-Args:' "$f")" 50
done
eval "$(counters sink)"
[ "${sess:-0}" -ge 1 ] && [ "$sess" -le 4 ] || fail "connections: ${sess:-none} (want 1..4 for 20 transactions)"
expect_eq "messages" "$mesg" 20
# rspawn-drive has closed qmail-rspawn's input: every connection ended with QUIT.
expect_eq "QUITs" "$quit" "$sess"
first_sess=$sess
echo "1000 recipients: 20 transactions over $sess connections"

# Idle connections are closed (with QUIT) after connectioncachetimelimit;
# the next delivery opens a new one.
echo 1 > "$CONTROLDIR/connectioncachetimelimit"
before=$sess
printf '%s\n' "$id s a@example.com" wait "sleep 2.5" "$id s b@example.com" |
  "$DRIVE" -c 1 "$BIN/qmail-rspawn" > "$T/out2" || fail "rspawn-drive"
expect_eq "idle run" "$(grep -c ' K ' "$T/out2")" 2
sleep 0.3
eval "$(counters sink)"
expect_eq "connections after an idle gap" "$sess" $((before + 2))
[ "$quit" -ge 2 ] || fail "no QUIT on idle close (quit=$quit)"

# connectionreusecountlimit: 6 transactions, 2 per connection.
echo 30 > "$CONTROLDIR/connectioncachetimelimit"
echo 2 > "$CONTROLDIR/connectionreusecountlimit"
before=$sess
for k in 1 2 3 4 5 6; do echo "$id s c$k@example.com"; done | "$DRIVE" -c 1 "$BIN/qmail-rspawn" > "$T/out3" || fail "rspawn-drive"
expect_eq "reuse-limited run" "$(grep -c ' K ' "$T/out3")" 6
sleep 0.3
eval "$(counters sink)"
expect_eq "connections with a reuse limit of 2" "$sess" $((before + 3))
rm "$CONTROLDIR/connectionreusecountlimit"

# A cached connection the peer has closed (smtp-sink -t 1 drops idle
# sessions after a second) costs no delivery: the worker finds it dead at
# RSET, before any recipient, and delivers over a new connection.
tport=$(free_port)
start_sink short "$tport" -c -t 1
echo ":127.0.0.1:$tport" > "$CONTROLDIR/smtproutes"
printf '%s\n' "$id s a@example.com" wait "sleep 2.5" "$id s b@example.com" |
  "$DRIVE" -c 1 "$BIN/qmail-rspawn" > "$T/outp" || fail "rspawn-drive"
expect_eq "deliveries over a connection closed by the peer" "$(grep -c ' K ' "$T/outp")" 2
sleep 0.3
eval "$(counters short)"
expect_eq "connections (the stale one, then a new one)" "$sess" 2
echo ":127.0.0.1:$port" > "$CONTROLDIR/smtproutes"

# One command whose recipients span domains is split by domain; both delivered.
echo "$id s x@one.example y@two.example z@one.example" | "$DRIVE" "$BIN/qmail-rspawn" > "$T/out4"
expect_eq "mixed domains" "$(grep -c ' K ' "$T/out4")" 3

# The message file must be mess/<id>, a regular file of the queue owner with
# one link whose inode is the id (qmail-lspawn's checks, one implementation):
# otherwise a temporary failure, never a delivery.
split=${CONFSPLIT:-$(head -n 1 "$TOP/conf-split")}
fake=4242424
cp "$QUEUEDIR/mess/$((id % split))/$id" "$QUEUEDIR/mess/$((fake % split))/$fake"
ln -s "$id" "$QUEUEDIR/mess/$((4343 % split))/4343"
printf '%s\n' "$fake s a@example.com" "4343 s b@example.com" "999999999 s c@example.com" |
  "$DRIVE" "$BIN/qmail-rspawn" > "$T/out5"
grep -q "^$fake a@example.com Z Sorry, message has wrong inode number. (#4.3.5)" "$T/out5" || fail "inode check: $(cat "$T/out5")"
grep -q "^4343 b@example.com Z Sorry, message is a symbolic link. (#4.3.5)" "$T/out5" || fail "symlink check: $(cat "$T/out5")"
grep -q "^999999999 c@example.com Z Unable to open message: .*(#4.3.0)" "$T/out5" || fail "missing message: $(cat "$T/out5")"
# A second hard link to the message (CVE-2008-2936's shape): refused too.
ln "$QUEUEDIR/mess/$((id % split))/$id" "$T/second-link"
echo "$id s d@example.com" | "$DRIVE" "$BIN/qmail-rspawn" > "$T/out6"
rm -f "$T/second-link"
grep -q "^$id d@example.com Z Sorry, message has wrong link count. (#4.3.5)" "$T/out6" || fail "link count check: $(cat "$T/out6")"
ok "1000 recipients in 20 transactions over $first_sess connections; limits and checks hold"
