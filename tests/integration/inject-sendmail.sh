# sendmail: the sendmail command line over qmail-inject's library, into a
# scratch queue; modes qfleet does not serve yet exit 100 and say who will.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/inject.lib"

printf 'To: hdr@example.org\nSubject: s\n\nfirst\n.\nafter the dot\n' > "$T/msg"
printf 'first\n.\nafter the dot\n' > "$T/body"
send() { # want-envelope sendmail-args...
  want=$1; shift
  "$BIN/sendmail" "$@" < "$T/msg" || fail "sendmail $*: exit $?"
  take
  expect_eq "sendmail $*" "$(envelope_of | tr '\n' ' ')" "$want"
  body_of | cmp -s - "$T/body" || fail "sendmail $*: body differs (a lone '.' must not end it)"
}
send "Fjoe@mail.example.org Targ@example.org " arg@example.org
send "Fjoe@mail.example.org Targ@example.org " -i arg@example.org
send "Fjoe@mail.example.org Thdr@example.org " -t
send "Fjoe@mail.example.org Thdr@example.org " -oi -t
send "Fjoe@mail.example.org Targ@example.org Thdr@example.org " -ti arg@example.org
send "Fjoe@mail.example.org Targ@example.org " -bm -oem -odb -B8BITMIME -U -N never arg@example.org
send "Fb@lists.example.org Targ@example.org " -f b@lists.example.org arg@example.org
send "Fb@lists.example.org Targ@example.org " -rb@lists.example.org arg@example.org
send "F Targ@example.org " -f '<>' arg@example.org
send "Fjoe@mail.example.org T-dash@example.org " -- -dash@example.org
ok "recipients, -t, -i/-oi, -f/-r, ignored options; a lone '.' never ends the message"

# -f makes the default From, -F names it.
printf 'Subject: no from\n\nbody\n' | "$BIN/sendmail" -f bounce@lists.example.org -F 'List Bot' arg@example.org
expect_eq "exit" $? 0
take
header_of | grep -qx 'From: "List Bot" <bounce@lists.example.org>' || fail "From: $(header_of | grep ^From)"
printf 'Subject: no from\n\nbody\n' | NAME=Someone "$BIN/sendmail" -FCronDaemon arg@example.org
take
header_of | grep -qx 'From: "CronDaemon" <joe@mail.example.org>' || fail "From: $(header_of | grep ^From)"
printf 'Subject: no from\n\nbody\n' | NAME=Someone "$BIN/sendmail" -f daemon arg@example.org
take
header_of | grep -qx 'From: daemon@mail.example.org' || fail "From: $(header_of | grep ^From)"
ok "-f and -F make the From"

# Errors and refused modes: exit 100, one line naming the program that will serve it.
queue_snapshot "$Q" > "$T/before"
refuse() { # want-text args...
  text=$1; shift
  "$BIN/sendmail" "$@" < "$T/msg" 2> "$T/err"; rc=$?
  expect_eq "sendmail $*: exit" $rc 100
  grep -q -- "$text" "$T/err" || fail "sendmail $*: stderr '$(cat "$T/err")', want '$text'"
}
refuse "sendmail: fatal: no recipients"
refuse "sendmail: usage: " -Z
refuse "sendmail: usage: " -f
refuse "qmail-smtpd will serve it" -bs
refuse "queue run interval" -q30m
refuse "queue run interval" -q30m30m
refuse "there is no aliases database" -bi
refuse "qmail-start runs the queue" -bd
ln -s "$BIN/sendmail" "$T/mailq"; ln -s "$BIN/sendmail" "$T/newaliases"
# mailq and -bp run qmail-qread on the same queue: it lists the same messages.
QUEUEDIR=$Q "$BIN/qmail-qread" > "$T/qread" || fail "qmail-qread"
QUEUEDIR=$Q "$T/mailq" > "$T/mailq.out" 2> "$T/err" < /dev/null; expect_eq "mailq" $? 0
QUEUEDIR=$Q "$BIN/sendmail" -bp > "$T/bp.out" 2>> "$T/err" < /dev/null; expect_eq "sendmail -bp" $? 0
cmp -s "$T/qread" "$T/mailq.out" && cmp -s "$T/qread" "$T/bp.out" || fail "mailq/-bp differ from qmail-qread: $(cat "$T/err")"
"$T/newaliases" 2> "$T/err" < /dev/null; expect_eq "newaliases" $? 100
grep -q "aliases database" "$T/err" || fail "newaliases: $(cat "$T/err")"
queue_snapshot "$Q" > "$T/after"
cmp -s "$T/before" "$T/after" || fail "refused modes changed the queue"
ok "-bs -q -bi -bd and newaliases refused with 100; mailq and -bp list the queue"

# -bv: nothing delivered; a report to the sender says what would happen.
printf 'test.example\n' > "$T/control/locals"
printf 'relayed.example:mx.relay.example:2525\n' > "$T/control/smtproutes"
mkdir -p "$T/home/users"
printf '=u:joe:1000:1000:/home/u:::\n.\n' > "$T/home/users/assign"
out=$("$BIN/sendmail" -bv -f owner@mail.example.org u@test.example x@relayed.example y@elsewhere.example < /dev/null)
expect_eq "-bv exit" $? 0
expect_eq "-bv says" "$out" "Mail Delivery Status Report will be mailed to <owner@mail.example.org>."
take
expect_eq "-bv envelope" "$(envelope_of | tr '\n' ' ')" "F Towner@mail.example.org "
header_of | grep -qx 'Subject: Mail Delivery Status Report' || fail "-bv subject: $(header_of)"
body_of | grep -qx '<u@test.example>: local delivery as user joe (uid 1000), home /home/u, instructions in /home/u/.qmail (else .qmail-default files, else the default delivery)' ||
  fail "-bv local: $(body_of)"
body_of | grep -qx '<x@relayed.example>: remote delivery by SMTP to relay mx.relay.example:2525 (smtproutes)' || fail "-bv relay: $(body_of)"
body_of | grep -qx '<y@elsewhere.example>: remote delivery by SMTP to the MX hosts of elsewhere.example (DNS, not looked up now)' || fail "-bv mx: $(body_of)"
expect_eq "-bv delivered nothing else" "$(ls "$Q/todo" | wc -l)" 0
ok "-bv mails a report of each address to the sender"
exit 0
