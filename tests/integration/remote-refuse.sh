# A refusing port (nothing listens) defers, and the same delivery succeeds
# once smtp-sink is up; a peer that never answers times out within
# timeoutremote and frees its slot while other deliveries go on.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/remote-common"

printf 'Subject: refuse\n\nbody\n' > "$T/msg"
id=$(queue_message "$T/msg" s@qfleet.test a@example.com)
port=$(free_port)
echo ":127.0.0.1:$port" > "$CONTROLDIR/smtproutes"

echo "$id s a@example.com" | "$DRIVE" "$BIN/qmail-rspawn" > "$T/out1"
grep -q "^$id a@example.com Z Sorry, I wasn't able to establish an SMTP connection to 127.0.0.1: Connection refused" "$T/out1" ||
  fail "refused port: $(cat "$T/out1")"
# A refusal is not a timeout: the host is not marked dead.
expect_eq "tcpto after a refusal" "$("$BIN/qmail-tcpto")" ""

start_sink sink "$port" -c
echo "$id s a@example.com" | "$DRIVE" "$BIN/qmail-rspawn" > "$T/out2"
grep -q "^$id a@example.com K 127.0.0.1 accepted message" "$T/out2" || fail "after the sink came up: $(cat "$T/out2")"

# A peer that accepts the connection and never speaks.
slow=$(free_port)
start_sink slow "$slow" -W CONNECT:3600
printf 'slow.example:127.0.0.1:%s\n:127.0.0.1:%s\n' "$slow" "$port" > "$CONTROLDIR/smtproutes"
echo 2 > "$CONTROLDIR/timeoutremote"
start=$(date +%s)
printf '%s\n' "$id s x@slow.example" "$id s y@example.com" "$id s z@example.com" |
  "$DRIVE" -c 2 "$BIN/qmail-rspawn" > "$T/out3"
secs=$(( $(date +%s) - start ))
grep -q "^$id x@slow.example Z Connected to 127.0.0.1 but timed out waiting for the greeting" "$T/out3" ||
  fail "silent peer: $(cat "$T/out3")"
expect_eq "deliveries beside the silent peer" "$(grep -c ' K ' "$T/out3")" 2
# The healthy deliveries did not wait for the silent one.
expect_eq "first report" "$(sed -n 2p "$T/out3" | cut -d' ' -f2,3)" "y@example.com K"
[ "$secs" -le 10 ] || fail "took ${secs}s with timeoutremote 2"
# The slot came back: one more delivery through a pool that had a stuck worker.
printf '%s\n' "$id s x@slow.example" "$id s w@example.com" | "$DRIVE" -c 1 "$BIN/qmail-rspawn" > "$T/out4"
expect_eq "after the timeout" "$(cut -d' ' -f2,3 "$T/out4" | sed -n '2,3p' | tr '\n' ' ')" "x@slow.example Z w@example.com K "
ok "refusal defers, then delivers; a silent peer times out in ${secs}s without blocking others"
