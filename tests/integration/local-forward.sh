# qmail-local forwards: every forward of a .qmail goes out in one injection
# into a scratch queue, with our Delivered-To line first and the original
# sender (or the list owner); qmail-queue's failures keep its meaning.
. "$(dirname "$0")/lib.sh"
export CONTROLDIR=$T/control
mkdir -p "$CONTROLDIR"
Q=$T/queue
mkqueue "$Q" -s 7
export QUEUEDIR=$Q CONFSPLIT=7
H=$T/home
mkdir -m 755 "$H"
mkdir -p "$H/Maildir/tmp" "$H/Maildir/new" "$H/Maildir/cur"
printf 'Subject: fwd\n\nbody\n' > "$T/msg"
run() { "$BIN/qmail-local" -- joe "$H" "joe-$1" - "$1" example.com "${2-s@x.example}" ./Maildir/ < "$T/msg"; }
# envelope_of id: the todo records, one a line
envelope_of() { tr '\0' '\n' < "$Q/todo/$1" | grep -v '^[up]'; }
only_message() {
  n=$(find "$Q/todo" -type f | wc -l)
  [ "$n" = 1 ] || fail "want one message in the queue, got $n"
  basename "$(find "$Q/todo" -type f)"
}
clear_queue() { rm -f "$Q"/todo/* "$Q"/intd/* "$Q"/mess/*/*; }

# 1. Two forwards and a Maildir: one injection, two recipients.
printf '&a@one.example\nb@two.example\n./Maildir/\n' > "$H/.qmail-fwd"
out=$(run fwd); rc=$?
expect_eq "exit" $rc 0
echo "$out" | sed -n 1p | grep -qx "did 1+2+0" || fail "report: $out"
echo "$out" | sed -n 2p | grep -Eqx "qp [0-9]+" || fail "no qp line: $out"
id=$(only_message)
expect_eq "envelope" "$(envelope_of "$id")" "Fs@x.example
Ta@one.example
Tb@two.example"
m=$(find "$Q/mess" -name "$id")
tail -n +2 "$m" > "$T/fwded"
{ printf 'Delivered-To: joe-fwd@example.com\n'; cat "$T/msg"; } | cmp -s - "$T/fwded" || fail "forwarded message: $(cat "$T/fwded")"
expect_eq "Maildir copy" "$(ls "$H/Maildir/new" | wc -l)" 1
ok "forwards: one injection, Delivered-To first, sender kept"

# 2. The list owner becomes the sender; a bounce stays a bounce.
clear_queue
printf '&a@one.example\n' > "$H/.qmail-list"
: > "$H/.qmail-list-owner"
out=$(run list); expect_eq "owner" $? 0
expect_eq "owner sender" "$(envelope_of "$(only_message)" | head -n 1)" "Fjoe-list-owner@example.com"
clear_queue
: > "$H/.qmail-list-owner-default"
out=$(run list); expect_eq "VERP owner" $? 0
expect_eq "VERP owner sender" "$(envelope_of "$(only_message)" | head -n 1)" "Fjoe-list-owner-@example.com-@[]"
clear_queue
out=$(run list ''); expect_eq "bounce" $? 0
expect_eq "bounce sender" "$(envelope_of "$(only_message)" | head -n 1)" "F"
clear_queue
out=$(run list '#@[]'); expect_eq "double bounce" $? 0
expect_eq "double bounce sender" "$(envelope_of "$(only_message)" | head -n 1)" "F#@[]"
clear_queue
echo '|printf "%s" "$NEWSENDER" > newsender' >> "$H/.qmail-list"
out=$(run list); expect_eq "NEWSENDER" "$(cat "$H/newsender")" "joe-list-owner-@example.com-@[]"
clear_queue
ok "list owner, VERP owner, bounces"

# 3. The x bit: forwards only.
printf '&a@one.example\n' > "$H/.qmail-xfwd"; chmod 744 "$H/.qmail-xfwd"
out=$(run xfwd); expect_eq "x bit with forwards only" $? 0
clear_queue
ok "x bit allows forwards"

# 4. qmail-queue's verdict: permanent codes bounce, the rest defer; nothing queued.
for pair in 31:100 11:100 71:111 53:111 81:111; do
  code=${pair%:*} want=${pair#*:}
  printf '#!/bin/sh\ncat > /dev/null; cat <&1 > /dev/null; exit %s\n' "$code" > "$T/qq-$code"
  chmod 755 "$T/qq-$code"
  out=$(QMAILQUEUE=$T/qq-$code run fwd); rc=$?
  expect_eq "qmail-queue exit $code" $rc "$want"
  echo "$out" | grep -q "^Unable to forward message: .*(#[45]\.[0-9]\.[0-9])\.$" || fail "text for $code: $out"
done
out=$(QMAILQUEUE=$T/qq-71 run fwd)
expect_eq "71 text" "$(echo "$out" | tail -n 1)" "Unable to forward message: mail server temporarily rejected message (#4.3.0)."
out=$(QMAILQUEUE=$T/nonexistent run fwd); rc=$?
expect_eq "qmail-queue missing" "$rc:$(echo "$out" | tail -n 1)" "111:Unable to forward message: unable to run qq (#4.3.0)."
expect_eq "nothing queued" "$(find "$Q/todo" -type f | wc -l)" 0
ok "qmail-queue exit codes: 11-40 permanent, others temporary"
exit 0
