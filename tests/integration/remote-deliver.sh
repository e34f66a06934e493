# qmail-remote delivers to smtp-sink: the bytes that arrive (CRLF
# normalisation, dot-stuffing, a completed partial last line, no smuggled
# end of data), the envelope (helohost, SIZE, BODY=8BITMIME), several
# recipients in one transaction, and its qmail-compatible output.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/remote-common"

port=$(free_port)
d=$(dumpdir dump)
start_sink sink "$port" -d "$d%M%S."
echo ":127.0.0.1:$port" > "$CONTROLDIR/smtproutes"
echo helo.qfleet.test > "$CONTROLDIR/helohost"

printf 'Subject: bytes\n\nfirst\n.dot line\nbare\rcr\r\ncrlf\n.\nMAIL FROM:<evil@x>\n\351t\351\nno final newline' > "$T/msg"
out=$(remote example.com sender@qfleet.test a@example.com b@example.com < "$T/msg")
expect_eq "qmail-remote output" "$out" "r|r|K127.0.0.1 accepted message.
Remote host said: 250 2.0.0 Ok
|"
wait_for 5 sh -c "ls '$d' | grep -q ." || fail "nothing dumped"
f=$(ls "$d"* | head -n 1)
grep -q '^X-Helo-Args: helo.qfleet.test$' "$f" || fail "helohost: $(head -5 "$f")"
grep -q '^X-Mail-Args: <sender@qfleet.test>\( SIZE=[0-9]*\)\{0,1\} BODY=8BITMIME$' "$f" || fail "MAIL args: $(grep Mail-Args "$f")"
expect_eq "recipients" "$(grep -c '^X-Rcpt-Args:' "$f")" 2
# The sink un-stuffs dots and ends lines with LF: what it kept is the message
# with every line end normalised and the last line completed.
sed '1,/^Received: /d' "$f" | sed '1,2d' > "$T/got"
printf 'Subject: bytes\n\nfirst\n.dot line\nbare\ncr\ncrlf\n.\nMAIL FROM:<evil@x>\n\351t\351\nno final newline\n\n' > "$T/want"
cmp "$T/got" "$T/want" || fail "body differs: $(od -c "$T/got" | head -20)"
expect_eq "messages dumped" "$(ls "$d" | wc -l)" 1

# A message on a pipe works as well as one in a file; an empty sender is <>.
out=$(cat "$T/msg" | remote example.com "" c@example.com)
case $out in "r|K127.0.0.1 accepted message."*) ;; *) fail "pipe input: $out" ;; esac

# Usage errors: qmail's text, exit 100.
"$BIN/qmail-remote" example.com > "$T/usage" < /dev/null
expect_eq "usage exit" $? 100
grep -q 'invoked improperly' "$T/usage" || fail "usage text"

ok "bytes, envelope and output as expected"
