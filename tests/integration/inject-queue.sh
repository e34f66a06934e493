# qmail-inject into a scratch queue: the envelope in todo/, and in mess/ the
# Received line, the header qmail-inject wrote, then the body byte for byte.
# Recipient strategies, -f, -n, the environment and the control files.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/inject.lib"

# 1. A message with its recipients in the header.
printf 'line one\n.\n..\nFrom me to you\n\n\tindented\r\n' > "$T/body"
head -c 5000 /dev/urandom >> "$T/body"; printf '\nlast line\n' >> "$T/body"
{ printf 'Subject: a test\n  folded subject\n'
  printf 'To: fred, "Barney R" <barney@bedrock>,\n  friends: wilma (W), betty@bedrock.example;\n'
  printf 'Cc: dino@example.net\nBcc: secret@example.net\nX-Custom:  kept  as is \n\n'
  cat "$T/body"; } > "$T/msg"
"$BIN/qmail-inject" < "$T/msg"; expect_eq "exit" $? 0
take
grep -Eq "^Received: \(qmail [0-9]+ invoked by uid $(id -u)\); $DATE_RE$" "$T/recv" ||
  fail "Received line: $(cat "$T/recv")"
expect_eq "envelope" "$(envelope_of)" "Fjoe@mail.example.org
Tfred@mail.example.org
Tbarney@bedrock.mail.example.org
Twilma@mail.example.org
Tbetty@bedrock.example
Tdino@example.net
Tsecret@example.net"
cat > "$T/want" <<EOF
Date: DATE
Message-ID: ID
From: joe@mail.example.org
Subject: a test
  folded subject
To: fred@mail.example.org, "Barney R" <barney@bedrock.mail.example.org>,
  friends: wilma@mail.example.org (W), betty@bedrock.example;
Cc: dino@example.net
X-Custom:  kept  as is 
EOF
header_of | stamps > "$T/head"
diff "$T/want" "$T/head" >&2 || fail "header differs"
body_of | cmp -s - "$T/body" || fail "body differs"
ok "header rewritten, Bcc removed, body byte for byte"

# 2. Recipient strategies: -a -h -H -A, and -f.
printf 'To: hdr@example.org\nSubject: s\n\nbody\n' > "$T/msg2"
try_rcpts() { # want args...
  want=$1; shift
  "$BIN/qmail-inject" "$@" < "$T/msg2" || fail "qmail-inject $*"
  take
  expect_eq "qmail-inject $*" "$(envelope_of | tr '\n' ' ')" "$want"
}
try_rcpts "Fjoe@mail.example.org Targ@example.org " arg@example.org
try_rcpts "Fjoe@mail.example.org Targ@example.org " -a arg@example.org
try_rcpts "Fjoe@mail.example.org Thdr@example.org " -A
try_rcpts "Fjoe@mail.example.org Thdr@example.org " -h arg@example.org
try_rcpts "Fjoe@mail.example.org Targ@example.org Thdr@example.org " -H arg@example.org
try_rcpts "Fboss@example.org Targ@example.org " -f boss@example.org arg@example.org
try_rcpts "Fboss@mail.example.org Targ@example.org " -fboss -- arg@example.org
try_rcpts "F Targ@example.org " -f '' arg@example.org
try_rcpts "Fjoe@mail.example.org Tx@mail.example.org Ty@mail.example.org " x y
ok "-a -h -H -A -f"

# 3. Return-Path sets the sender and goes; Content-Length goes.
printf 'Return-Path: <bounce@lists.example.org>\nContent-Length: 99\nTo: a@example.org\n\nb\n' |
  "$BIN/qmail-inject"; expect_eq "exit" $? 0
take
expect_eq "sender from Return-Path" "$(envelope_of | head -n 1)" "Fbounce@lists.example.org"
header_of | grep -Eq '^(Return-Path|Content-Length):' && fail "Return-Path or Content-Length kept"
ok "Return-Path and Content-Length"

# 4. The environment: user, host, name, envelope sender, flags.
printf 'From: someone@else.example\nMessage-ID: <old@x>\nTo: a@example.org\n\nb\n' > "$T/msg4"
QMAILUSER=jane QMAILHOST=host.example.com QMAILNAME='Jane "J" Doe' QMAILINJECT=fi \
  "$BIN/qmail-inject" < "$T/msg4"; expect_eq "exit" $? 0
take
header_of | grep -qx 'From: "Jane \\"J\\" Doe" <jane@host.example.com>' || fail "From: $(header_of | grep ^From)"
header_of | grep -q 'old@x' && fail "QMAILINJECT=i kept the Message-ID"
expect_eq "sender" "$(envelope_of | head -n 1)" "Fjane@host.example.com"
MAILUSER=m MAILNAME=Em QMAILINJECT=c QMAILSUSER=bounces QMAILSHOST=lists.example.org \
  "$BIN/qmail-inject" a@example.org < /dev/null; expect_eq "exit" $? 0
take
header_of | grep -qx 'From: m@mail.example.org (Em)' || fail "From: $(header_of | grep ^From)"
expect_eq "QMAILSUSER/QMAILSHOST" "$(envelope_of | head -n 1)" "Fbounces@lists.example.org"
QMAILINJECT=r "$BIN/qmail-inject" a@example.org < /dev/null; expect_eq "exit" $? 0
take
expect_eq "per-recipient VERP" "$(envelope_of | head -n 1)" "Fjoe-@mail.example.org-@[]"
QMAILINJECT=m "$BIN/qmail-inject" a@example.org < /dev/null; expect_eq "exit" $? 0
take
envelope_of | head -n 1 | grep -Eq '^Fjoe-[0-9]+\.[0-9]+@mail\.example\.org$' || fail "per-message VERP: $(envelope_of | head -n 1)"
ok "QMAILUSER QMAILHOST QMAILNAME QMAILSUSER QMAILSHOST QMAILINJECT"

# 5. Control files and their environment overrides.
echo silverton > "$CONTROLDIR/defaulthost"
echo berkeley.edu > "$CONTROLDIR/defaultdomain"
echo cs.berkeley.edu > "$CONTROLDIR/plusdomain"
echo id.berkeley.edu > "$CONTROLDIR/idhost"
printf 'To: djb, eric@mammoth+, x@[10.1.2.3]\n\nb\n' | "$BIN/qmail-inject"; expect_eq "exit" $? 0
take
expect_eq "qualified" "$(envelope_of | tr '\n' ' ')" \
  "Fjoe@silverton.berkeley.edu Tdjb@silverton.berkeley.edu Teric@mammoth.cs.berkeley.edu Tx@[10.1.2.3] "
header_of | grep -Eq '^Message-ID: <[0-9]+\.[0-9]+\.qmail@id\.berkeley\.edu>$' || fail "idhost: $(header_of | grep ^Message)"
QMAILDEFAULTHOST=h2.example.com QMAILIDHOST=id2 "$BIN/qmail-inject" u < /dev/null; expect_eq "exit" $? 0
take
expect_eq "QMAILDEFAULTHOST" "$(envelope_of | tr '\n' ' ')" "Fjoe@h2.example.com Tu@h2.example.com "
header_of | grep -q '^Message-ID: <.*\.qmail@id2>$' || fail "QMAILIDHOST"
rm -f "$CONTROLDIR"/default* "$CONTROLDIR/plusdomain" "$CONTROLDIR/idhost"
ok "defaulthost defaultdomain plusdomain idhost"

# 6. -n prints the message and queues nothing.
"$BIN/qmail-inject" -n < "$T/msg" > "$T/printed"; expect_eq "exit" $? 0
[ -z "$(ls "$Q/todo")" ] || fail "-n queued something"
head -n 1 "$T/printed" | grep -qx 'Return-Path: <joe@mail.example.org>' || fail "-n: $(head -n 1 "$T/printed")"
tail -n +2 "$T/printed" | stamps | head -n 9 | diff "$T/want" - >&2 || fail "-n header"
ok "-n"

# 7. Resent messages: Resent-* fields added, recipients from Resent-To/Cc/Bcc.
printf 'From: orig@example.org\nTo: orig@example.org\nDate: x\nResent-To: fwd@example.org\nResent-Bcc: hid@example.org\n\nb\n' |
  "$BIN/qmail-inject"; expect_eq "exit" $? 0
take
expect_eq "resent envelope" "$(envelope_of | tr '\n' ' ')" "Fjoe@mail.example.org Tfwd@example.org Thid@example.org "
header_of | grep -q '^Resent-From: joe@mail.example.org$' || fail "Resent-From"
header_of | grep -q '^Resent-Message-ID: ' || fail "Resent-Message-ID"
header_of | grep -q '^Resent-Bcc' && fail "Resent-Bcc kept"
ok "resent"
exit 0
