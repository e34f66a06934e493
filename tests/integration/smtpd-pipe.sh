# qmail-smtpd driven over a pipe, with the real qmail-queue on a scratch
# queue: what is queued (envelope, Received line, exact bytes), every refusal
# (and that it queues nothing), qmail-queue's exit codes, timeout, exit codes.
. "$(dirname "$0")/lib.sh"
Q=$T/queue
mkqueue "$Q" -s 7
mkdir "$T/control"
echo mx.example.org > "$T/control/me"
printf 'example.org\n.example.net\n' > "$T/control/rcpthosts"
printf 'spam@bad.example\n@worse.example\n' > "$T/control/badmailfrom"
export QUEUEDIR=$Q CONFSPLIT=7 CONTROLDIR=$T/control QMAILQUEUE=$BIN/qmail-queue
export TCPREMOTEIP=192.0.2.7 TCPREMOTEHOST=client.example TCPLOCALIP=192.0.2.1 TCPLOCALHOST=mx.example.org
unset RELAYCLIENT DATABYTES TCPREMOTEINFO

# smtp 'input with \r\n escapes': runs a session; replies in $T/out, exit code in $rc.
smtp() {
  printf '%b' "$1" > "$T/in"
  "$BIN/qmail-smtpd" < "$T/in" > "$T/out" 2> "$T/err"; rc=$?
  [ -s "$T/err" ] && fail "qmail-smtpd wrote to fd 2: $(cat "$T/err")"
  return 0
}
replies() { tr -d '\r' < "$T/out"; }
last_reply() { replies | tail -n 1; }
messages() { find "$Q/mess" -type f | wc -l; }
ENV='MAIL FROM:<a@sender.example>\r\nRCPT TO:<u@example.org>\r\n'

# 1. One message: replies, envelope, and bytes (qmail-queue's Received line,
#    ours, then the body with CR LF made LF and the stuffed dots removed).
smtp 'EHLO helo.example\r\nMAIL FROM:<a@sender.example>\r\nRCPT TO:<u@example.org>\r\nRCPT TO:<v@sub.example.net>\r\nDATA\r\nSubject: hi\r\n\r\n..dot\r\nline . with dot\r\n\r\n.\r\nQUIT\r\n'
expect_eq "exit after QUIT" $rc 0
replies > "$T/got"
cat > "$T/want" <<EOF
220 mx.example.org ESMTP
250-mx.example.org
250-PIPELINING
250 8BITMIME
250 ok
250 ok
250 ok
354 go ahead
250 ok TIME qp PID
221 mx.example.org
EOF
sed -i -E 's/^250 ok [0-9]+ qp [0-9]+$/250 ok TIME qp PID/' "$T/got"
cmp -s "$T/got" "$T/want" || { diff "$T/want" "$T/got"; fail "replies of a plain session"; }
m=$(find "$Q/mess" -type f)
id=$(basename "$m")
qp=$(replies | sed -n 's/^250 ok [0-9]* qp \([0-9]*\)$/\1/p')
tr '\0' '\n' < "$Q/todo/$id" | sed -n '3,5p' > "$T/env"
printf 'Fa@sender.example\nTu@example.org\nTv@sub.example.net\n' | cmp -s - "$T/env" || fail "envelope: $(cat "$T/env")"
sed -n 1p "$m" | grep -Eq "^Received: \(qmail $qp invoked by uid $(id -u)\); " || fail "qmail-queue line: $(sed -n 1p "$m")"
sed -n 2p "$m" | grep -Eq '^Received: from client\.example \(HELO helo\.example\) \(192\.0\.2\.7\)$' ||
  fail "Received line 1: $(sed -n 2p "$m")"
sed -n 3p "$m" | grep -Eq '^  by mx\.example\.org with SMTP; [0-9]+ [A-Z][a-z]{2} [0-9]{4} [0-9:]{8} -0000$' ||
  fail "Received line 2: $(sed -n 3p "$m")"
printf 'Subject: hi\n\n.dot\nline . with dot\n\n' > "$T/want"
tail -n +4 "$m" | cmp -s - "$T/want" || fail "message body: $(tail -n +4 "$m" | od -c | head)"
ok "one message: envelope, Received line, bytes"

# 2. Binary bytes, 8-bit text and a 200 kB line pass unchanged (but for CR LF).
awk 'BEGIN { printf "X-Bin: "; for (i = 1; i < 256; i++) if (i != 10 && i != 13) printf "%c", i; printf "\r\n\r\n";
             for (i = 0; i < 200000; i++) printf "x"; printf "\r\nend\r\n" }' > "$T/body"
{ printf 'MAIL FROM:<a@sender.example>\r\nRCPT TO:<u@example.org>\r\nDATA\r\n'; cat "$T/body"; printf '.\r\nQUIT\r\n'; } > "$T/in"
"$BIN/qmail-smtpd" < "$T/in" > "$T/out"; rc=$?
expect_eq "binary message exit" $rc 0
replies | grep -q '^250 ok [0-9]* qp' || fail "binary message: $(replies)"
tr -d '\r' < "$T/body" > "$T/want"
found=0
for f in $(find "$Q/mess" -type f); do tail -n +4 "$f" | cmp -s - "$T/want" && found=1; done
expect_eq "binary body stored exactly" $found 1
ok "8-bit bytes and a 200 kB line"

# 3. Pipelining: two messages and their replies from one write.
before=$(messages)
smtp "HELO x\r\n${ENV}DATA\r\none\r\n.\r\n${ENV}DATA\r\ntwo\r\n.\r\nQUIT\r\n"
expect_eq "pipelined exit" $rc 0
expect_eq "pipelined replies" "$(replies | cut -c1-3 | tr '\n' ' ')" "220 250 250 250 354 250 250 250 354 250 221 "
expect_eq "pipelined messages queued" $(messages) $((before + 2))
ok "pipelined session"

# 4. Refusals: the reply, and nothing queued.
refused() { # name want-last-reply want-exit
  expect_eq "$1: reply" "$(last_reply)" "$2"
  expect_eq "$1: exit" $rc "$3"
  expect_eq "$1: queue" $(messages) $before
  ok "$1 -> $2"
}
before=$(messages)
smtp 'HELO x\r\nMAIL FROM:<a@b.example>\r\nRCPT TO:<u@evil.example>\r\n'
refused "relaying" "553 sorry, that domain isn't in my list of allowed rcpthosts (#5.7.1)" 111
smtp 'MAIL FROM:<x@worse.example>\r\nRCPT TO:<u@example.org>\r\nQUIT\r\n'
expect_eq "badmailfrom" "$(replies | sed -n 3p)" "553 sorry, your envelope sender is in my badmailfrom list (#5.7.1)"
smtp 'MAIL FROM:<SPAM@bad.example>\r\nRCPT TO:<u@example.org>\r\nDATA\r\n'
refused "badmailfrom" "503 RCPT first (#5.5.1)" 111
smtp 'RCPT TO:<u@example.org>\r\n'
refused "RCPT first" "503 MAIL first (#5.5.1)" 111
smtp 'MAIL FROM:<a@b>\r\nDATA\r\n'
refused "DATA without RCPT" "503 RCPT first (#5.5.1)" 111
smtp 'MAIL FROM:<a@b>\r\nMAIL FROM:<a@b>\r\n'
refused "nested MAIL" "503 nested MAIL command (#5.5.1)" 111
smtp 'ETRN example.org\r\n'
refused "unknown command" "502 unimplemented (#5.5.1)" 111
smtp 'VRFY root\r\n'
refused "VRFY" "252 send some mail, i'll try my best" 111
smtp "NOOP $(head -c 5000 /dev/zero | tr '\0' x)\r\n"
refused "long command" "500 command line too long (#5.5.2)" 111
DATABYTES=10 smtp 'MAIL FROM:<a@b> SIZE=11\r\n'
refused "SIZE over databytes" "552 sorry, that message size exceeds my databytes limit (#5.3.4)" 111
DATABYTES=10 smtp "${ENV}DATA\r\n0123456789\r\n.\r\n"
refused "databytes" "552 sorry, that message size exceeds my databytes limit (#5.3.4)" 111
echo 10 > "$T/control/databytes"
smtp "EHLO x\r\n${ENV}DATA\r\n0123456789\r\n.\r\n"
expect_eq "EHLO SIZE" "$(replies | sed -n 5p)" "250 SIZE 10"
refused "control/databytes" "552 sorry, that message size exceeds my databytes limit (#5.3.4)" 111
smtp "${ENV}DATA\r\n012345678\r\n.\r\n"
expect_eq "exactly databytes" "$(last_reply | cut -c1-7)" "250 ok "
rm "$T/control/databytes"
before=$(messages)
hops=$(i=0; while [ $i -lt 100 ]; do printf 'Received: x\\r\\n'; i=$((i + 1)); done)
smtp "${ENV}DATA\r\n${hops}\r\n.\r\n"
refused "100 hops" "554 too many hops, this message is looping (#5.4.6)" 111

# 5. Bare LF and bare CR, smuggling shapes: 521, session over, exit 100.
bare() { # name input want
  smtp "$2"
  refused "$1" "521 5.5.2 mx.example.org Error: bare <$3> received" 100
}
bare "bare LF in a command" 'HELO x\n' LF
bare "bare CR in a command" 'HELO x\ry\r\n' CR
bare "bare LF in the header" "${ENV}DATA\r\nSubject: x\n\r\n.\r\n" LF
bare "bare LF in the body" "${ENV}DATA\r\na\r\nb\nc\r\n.\r\n" LF
bare "bare CR in the body" "${ENV}DATA\r\na\rb\r\n.\r\n" CR
bare "smuggling LF . LF" "${ENV}DATA\r\nx\n.\nMAIL FROM:<evil@x>\r\nRCPT TO:<u@example.org>\r\nDATA\r\nsmuggled\r\n.\r\nQUIT\r\n" LF
bare "smuggling CR LF . LF" "${ENV}DATA\r\nx\r\n.\nMAIL FROM:<evil@x>\r\nRCPT TO:<u@example.org>\r\nDATA\r\nsmuggled\r\n.\r\n" LF
bare "smuggling LF . CR LF" "${ENV}DATA\r\nx\n.\r\nMAIL FROM:<evil@x>\r\n" LF
bare "smuggling CR . CR LF" "${ENV}DATA\r\nx\r.\r\nMAIL FROM:<evil@x>\r\n" CR
smtp "${ENV}DATA\r\nx\r\n.\r\n"
expect_eq "CR LF . CR LF still ends data" "$(last_reply | cut -c1-7)" "250 ok "
before=$(messages)

# 6. A refused DATA with the message already sent behind it.
smtp "MAIL FROM:<a@b>\r\nRCPT TO:<u@evil.example>\r\nDATA\r\nMAIL FROM:<x@y>\r\nRCPT TO:<u@example.org>\r\nDATA\r\nhi\r\n.\r\n"
refused "unsynchronized pipelining" "554 5.5.0 Error: SMTP protocol synchronization" 100

# 7. RELAYCLIENT: any domain, with the suffix appended.
RELAYCLIENT= smtp "MAIL FROM:<a@b>\r\nRCPT TO:<u@anywhere.example>\r\nDATA\r\nrelay\r\n.\r\nQUIT\r\n"
expect_eq "RELAYCLIENT exit" $rc 0
grep -rqa 'Tu@anywhere.example' "$Q/todo" || fail "RELAYCLIENT recipient not queued"
RELAYCLIENT=.suffix smtp "MAIL FROM:<a@b>\r\nRCPT TO:<u@anywhere.example>\r\nDATA\r\nrelay\r\n.\r\nQUIT\r\n"
grep -rqa 'Tu@anywhere.example.suffix' "$Q/todo" || fail "RELAYCLIENT suffix not appended"
ok "RELAYCLIENT"
before=$(messages)

# 8. No rcpthosts file: no relaying.
mv "$T/control/rcpthosts" "$T/control/rcpthosts.away"
smtp "MAIL FROM:<a@b>\r\nRCPT TO:<u@example.org>\r\n"
refused "no rcpthosts" "553 sorry, that domain isn't in my list of allowed rcpthosts (#5.7.1)" 111
mv "$T/control/rcpthosts.away" "$T/control/rcpthosts"

# 9. qmail-queue's exit codes become the final reply; nothing is queued.
for pair in "31:554 mail server permanently rejected message (#5.3.0)" \
            "71:451 mail server temporarily rejected message (#4.3.0)" \
            "53:451 qq write error or disk full (#4.3.0)" \
            "11:554 envelope address too long for qq (#5.1.3)"; do
  code=${pair%%:*}
  printf '#!/bin/sh\ncat > /dev/null; exit %s\n' "$code" > "$T/fakeqq"
  chmod 755 "$T/fakeqq"
  QMAILQUEUE=$T/fakeqq smtp "${ENV}DATA\r\nx\r\n.\r\nQUIT\r\n"
  expect_eq "qmail-queue exit $code" "$(replies | sed -n 5p)" "${pair#*:}"
  ok "qmail-queue exit $code -> ${pair#*:}"
done
QMAILQUEUE=$T/nonexistent smtp "${ENV}DATA\r\nx\r\n.\r\n"
refused "qmail-queue missing" "451 unable to run qq (#4.3.0)" 111
chmod 000 "$Q/todo"
if [ -r "$Q/todo" ]; then  # root: permissions do not stop it; move the directory instead
  chmod 750 "$Q/todo"; mv "$Q/todo" "$Q/todo.away"; moved=1
fi
smtp "${ENV}DATA\r\nx\r\n.\r\n"
[ "${moved:-}" ] && mv "$Q/todo.away" "$Q/todo" || chmod 750 "$Q/todo"
refused "queue trouble" "451 qq trouble creating files in queue (#4.3.0)" 111

# 10. End of input mid-message: nothing queued.
smtp "${ENV}DATA\r\nhalf a message\r\n"
refused "lost connection in DATA" "354 go ahead" 111

# 11. Timeout: timeoutsmtpd seconds of silence.
echo 1 > "$T/control/timeoutsmtpd"
{ printf "${ENV}DATA\r\nstalled\r\n"; sleep 4; } | "$BIN/qmail-smtpd" > "$T/out"; rc=$?
refused "timeout" "451 timeout (#4.4.2)" 111
rm "$T/control/timeoutsmtpd"

# 12. Controls: smtpgreeting wins over me; neither -> 421.
echo "greeting.example hello there" > "$T/control/smtpgreeting"
smtp 'QUIT\r\n'
expect_eq "smtpgreeting" "$(replies | tr '\n' '|')" "220 greeting.example hello there ESMTP|221 greeting.example hello there|"
rm "$T/control/smtpgreeting" "$T/control/me"
smtp 'QUIT\r\n'
expect_eq "no me" "$(replies)" "421 unable to read controls (#4.3.0)"
expect_eq "no me exit" $rc 111
echo mx.example.org > "$T/control/me"
echo lots > "$T/control/timeoutsmtpd"
smtp 'QUIT\r\n'
expect_eq "bad timeoutsmtpd" "$(replies)" "421 unable to read controls (#4.3.0)"
rm "$T/control/timeoutsmtpd"
ok "smtpgreeting, missing me, unreadable control"

# 13. Usage: arguments are refused on fd 2, nothing on the SMTP side.
"$BIN/qmail-smtpd" x < /dev/null > "$T/out" 2> "$T/err"; rc=$?
expect_eq "usage exit" $rc 100
[ -s "$T/out" ] && fail "usage wrote to fd 1"
grep -q 'usage' "$T/err" || fail "no usage line"
ok "usage"
exit 0
