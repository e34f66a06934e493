# A 50 MB body is streamed: qmail-inject and qmail-queue run under a 24 MB
# address-space limit (ulimit -v), and the queued body is byte-exact. One
# body line is 10 MB long.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/inject.lib"

{ head -c 20000000 /dev/urandom | od -An -tx1 -v | tr -d ' ' | head -c 30000000
  printf '\n'
  head -c 10000000 /dev/zero | tr '\0' L; printf '\n'
  head -c 10000000 /dev/urandom; printf '\nend\n'; } > "$T/body"
size=$(stat -c %s "$T/body")
[ "$size" -gt 50000000 ] || fail "body is only $size bytes"
{ printf 'To: big@example.org\nSubject: big\n\n'; cat "$T/body"; } > "$T/msg"
# the limit bites: a program that holds 50 MB cannot run under it
(ulimit -v 24000; dd bs=50M count=1 if=/dev/zero of=/dev/null 2> /dev/null) && skip "ulimit -v is not enforced here"

(ulimit -v 24000; exec "$BIN/qmail-inject" < "$T/msg"); expect_eq "exit under ulimit -v 24000" $? 0
take
body_of | cmp -s - "$T/body" || fail "body differs"
expect_eq "envelope" "$(envelope_of | tr '\n' ' ')" "Fjoe@mail.example.org Tbig@example.org "
ok "$size-byte body streamed in 24 MB of address space, byte-exact"

# The same through sendmail, from a pipe.
(ulimit -v 24000; cat "$T/msg" | "$BIN/sendmail" -t -oi); expect_eq "sendmail exit" $? 0
take
body_of | cmp -s - "$T/body" || fail "sendmail: body differs"
ok "sendmail -t streams it too"
exit 0
