# qmail-inject on bad input: the exit code (100 permanent, 111 temporary),
# one "qmail-inject: fatal: ..." line, and a queue left as it was.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/inject.lib"

queue_snapshot "$Q" > "$T/before"
unchanged() {
  queue_snapshot "$Q" > "$T/after"
  cmp -s "$T/before" "$T/after" || { diff "$T/before" "$T/after" | head >&2; fail "$1: queue changed"; }
}
# try name want-exit want-stderr-prefix input-file qmail-inject-args...
try() {
  name=$1 want=$2 text=$3 input=$4; shift 4
  "$BIN/qmail-inject" "$@" < "$input" 2> "$T/err"; rc=$?
  expect_eq "$name: exit" $rc "$want"
  case $(cat "$T/err") in
    "$text"*) ;;
    *) fail "$name: stderr '$(cat "$T/err")', want '$text...'" ;;
  esac
  [ "$(wc -l < "$T/err")" = 1 ] || fail "$name: more than one line on stderr"
  unchanged "$name"
  ok "$name -> $rc"
}
printf 'To: a@example.org\n\nbody\n' > "$T/good"
printf 'Subject: nobody\n\nbody\n' > "$T/norcpt"
printf 'From: joe@x.org>\nTo: a@example.org\n\nbody\n' > "$T/badfrom"
printf 'To: list:a@x.org\nCc: b@example.org\n\nbody\n' > "$T/badto"
printf 'Return-Path: <"unterminated>\nTo: a@example.org\n\nbody\n' > "$T/badrp"
{ printf 'To: a@example.org\nX-Long: '; head -c 1100000 /dev/zero | tr '\0' x; printf '\n\nbody\n'; } > "$T/longfield"
{ printf 'To: a@example.org\nX-Folded: x\n'
  i=0; while [ $i -lt 1100 ]; do printf ' %01000d\n' 0; i=$((i + 1)); done
  printf '\nbody\n'; } > "$T/longfolded"
{ printf 'To: a@example.org\n'
  i=0; while [ $i -lt 5 ]; do printf 'X-Big-%d: ' $i; head -c 1000000 /dev/zero | tr '\0' y; echo; i=$((i + 1)); done
  printf '\nbody\n'; } > "$T/longheader"

try "usage" 100 "qmail-inject: usage: " "$T/good" -x
try "-f without a sender" 100 "qmail-inject: usage: " "$T/good" -f
try "bad recipient argument" 100 "qmail-inject: fatal: unable to parse address: a@b c" "$T/good" 'a@b c'
try "bad -f" 100 "qmail-inject: fatal: unable to parse address: x@y>" "$T/good" -f 'x@y>' a@example.org
try "no recipients" 100 "qmail-inject: fatal: no recipients" "$T/norcpt"
try "no recipients with -a" 100 "qmail-inject: fatal: no recipients" "$T/good" -a
try "sender field that does not parse" 100 "qmail-inject: fatal: unable to parse this line: From: joe@x.org>" "$T/badfrom"
try "Return-Path that does not parse" 100 "qmail-inject: fatal: unable to parse this line: Return-Path" "$T/badrp"
try "needed recipient field that does not parse" 100 "qmail-inject: fatal: unable to parse this line: To: list:a@x.org" "$T/badto"
try "header field over 1 MiB" 100 "qmail-inject: fatal: header field too long" "$T/longfield"
try "folded header field over 1 MiB" 100 "qmail-inject: fatal: header field too long" "$T/longfolded"
try "header over 4 MiB" 100 "qmail-inject: fatal: header too long" "$T/longheader"
try "input is a directory" 111 "qmail-inject: fatal: unable to read input: " "$T"

# A recipient field that does not parse is kept as it is when its addresses are not needed.
"$BIN/qmail-inject" -a z@example.org < "$T/badto"; expect_eq "-a with a bad To" $? 0
take
header_of | grep -qx 'To: list:a@x.org' || fail "bad To not kept: $(header_of)"
queue_snapshot "$Q" > "$T/before"
ok "a bad To is kept when -a makes it irrelevant"

# Control files that cannot be used: temporary.
echo 'two words' > "$CONTROLDIR/defaulthost"
try "defaulthost that is no host name" 111 "qmail-inject: fatal: defaulthost is not a host name: two words" "$T/good"
rm "$CONTROLDIR/defaulthost"
QMAILPLUSDOMAIN='a<b' "$BIN/qmail-inject" < "$T/good" 2> /dev/null; expect_eq "bad QMAILPLUSDOMAIN" $? 111
mkdir "$CONTROLDIR/idhost"
try "unreadable control file" 111 "qmail-inject: fatal: unable to read $CONTROLDIR/idhost: " "$T/good"
rmdir "$CONTROLDIR/idhost"

# A read error in the middle of the body: qmail-queue is running by then and
# must commit nothing (strace injects EIO into the 30th read of qmail-inject).
if strace -o /dev/null true 2> /dev/null; then
  { printf 'To: a@example.org\n\n'; head -c 5000000 /dev/zero | tr '\0' z; echo; } > "$T/body5m"
  strace -o "$T/strace.log" -e trace=read -e inject=read:error=EIO:when=30 \
    "$BIN/qmail-inject" < "$T/body5m" 2> "$T/err"; rc=$?
  expect_eq "read error mid-body" $rc 111
  grep -q "qmail-inject: fatal: unable to read input: Input/output error" "$T/err" || fail "read error text: $(cat "$T/err")"
  grep -q 'read(0, .*EIO' "$T/strace.log" || fail "the error was not injected into a read of stdin"
  unchanged "read error mid-body"
  [ -z "$(ls "$Q/pid")" ] || fail "pid/ not empty after a read error"
  ok "read error mid-body -> 111, nothing committed"
else
  echo "skipped the mid-body read error case: strace cannot trace here"
fi
exit 0
