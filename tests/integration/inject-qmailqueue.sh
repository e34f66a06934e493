# qmail-inject honours QMAILQUEUE: the program gets the message on fd 0 and the
# envelope on fd 1, and its exit code becomes qmail-inject's (qmail-queue's
# table: 11-40 permanent -> 100, the rest temporary -> 111) with qmail's text.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/inject.lib"

cat > "$T/qq" <<EOF
#!/bin/sh
cat > "$T/qq.msg"
cat 0<&1 > "$T/qq.env"
exit \${QQ_EXIT:-0}
EOF
chmod 755 "$T/qq"
export QMAILQUEUE=$T/qq
printf 'To: a@example.org\nBcc: b@example.org\n\nbody\n' > "$T/msg"

QQ_EXIT=0 "$BIN/qmail-inject" -f s@example.org < "$T/msg"; expect_eq "exit" $? 0
[ -z "$(ls "$Q/todo")" ] || fail "the real queue was used"
printf 'Fs@example.org\0Ta@example.org\0Tb@example.org\0\0' | cmp -s - "$T/qq.env" ||
  fail "envelope: $(od -c "$T/qq.env" | head)"
stamps < "$T/qq.msg" > "$T/qq.txt"
printf 'Date: DATE\nMessage-ID: ID\nFrom: joe@mail.example.org\nTo: a@example.org\n\nbody\n' |
  cmp -s - "$T/qq.txt" || fail "message: $(cat "$T/qq.txt")"
ok "QMAILQUEUE gets the message on fd 0 and the envelope on fd 1"

# Exit codes: qmail-inject's own, and qmail's text for each.
try() { # qq-exit want-exit want-text
  QQ_EXIT=$1 "$BIN/qmail-inject" < "$T/msg" 2> "$T/err"; rc=$?
  expect_eq "QMAILQUEUE exit $1" $rc "$2"
  expect_eq "QMAILQUEUE exit $1 text" "$(cat "$T/err")" "qmail-inject: fatal: $3"
}
try 11 100 "envelope address too long for qq (#5.1.3)"
try 31 100 "mail server permanently rejected message (#5.3.0)"
try 40 100 "qq permanent problem (#5.3.0)"
try 51 111 "qq out of memory (#4.3.0)"
try 53 111 "qq write error or disk full (#4.3.0)"
try 71 111 "mail server temporarily rejected message (#4.3.0)"
try 81 111 "qq internal bug (#4.3.0)"
try 91 111 "qq internal bug (#4.3.0)"
try 99 111 "qq temporary problem (#4.3.0)"
ok "exit codes 11 31 40 -> 100; 51 53 71 81 91 99 -> 111"

# A queue program that cannot run, or that leaves before reading anything
# (qmail-inject must see the exit code, not die of SIGPIPE).
QMAILQUEUE=$T/missing "$BIN/qmail-inject" < "$T/msg" 2> "$T/err"; expect_eq "missing program" $? 111
expect_eq "missing program text" "$(cat "$T/err")" "qmail-inject: fatal: unable to run qq (#4.3.0)"
printf '#!/bin/sh\nexit 31\n' > "$T/early"; chmod 755 "$T/early"
{ printf 'To: a@example.org\n\n'; head -c 3000000 /dev/zero | tr '\0' x; echo; } > "$T/bigmsg"
QMAILQUEUE=$T/early "$BIN/qmail-inject" < "$T/bigmsg" 2> "$T/err"; expect_eq "early exit" $? 100
grep -q "permanently rejected" "$T/err" || fail "early exit text: $(cat "$T/err")"
ok "missing program -> 111; a program that exits early -> its code"

# The real qmail-queue through QMAILQUEUE.
QMAILQUEUE=$BIN/qmail-queue "$BIN/qmail-inject" < "$T/msg"; expect_eq "QMAILQUEUE=qmail-queue" $? 0
take
expect_eq "envelope" "$(envelope_of | tr '\n' ' ')" "Fjoe@mail.example.org Ta@example.org Tb@example.org "
ok "QMAILQUEUE=qmail-queue"

# sendmail goes the same way.
QQ_EXIT=0 "$BIN/sendmail" -t < "$T/msg"; expect_eq "sendmail" $? 0
printf 'Fjoe@mail.example.org\0Ta@example.org\0Tb@example.org\0\0' | cmp -s - "$T/qq.env" ||
  fail "sendmail envelope: $(od -c "$T/qq.env" | head)"
QQ_EXIT=71 "$BIN/sendmail" -t < "$T/msg" 2> "$T/err"; expect_eq "sendmail temporary" $? 111
expect_eq "sendmail text" "$(cat "$T/err")" "sendmail: fatal: mail server temporarily rejected message (#4.3.0)"
ok "sendmail honours QMAILQUEUE"
exit 0
