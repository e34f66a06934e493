# Dead-host memory: a host with two recent connect timeouts in lock/tcpto is
# skipped (the delivery defers without connecting), qmail-tcpto shows it,
# qmail-tcpok forgets it and the next delivery goes through.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/remote-common"

port=$(free_port)
start_sink sink "$port" -c
echo ":127.0.0.1:$port" > "$CONTROLDIR/smtproutes"
tcpto=$QUEUEDIR/lock/tcpto
expect_eq "tcpto size" "$(wc -c < "$tcpto")" 2048
expect_eq "empty tcpto" "$("$BIN/qmail-tcpto")" ""

# le64 n: n as 8 little-endian bytes (printf escapes).
le64() {
  v=$1 k=0 s=
  while [ $k -lt 8 ]; do s="$s\\$(printf %03o $((v & 255)))"; v=$((v >> 8)); k=$((k + 1)); done
  printf "$s"
}
# Record 3: 127.0.0.1 (IPv4-mapped), 2 recent timeouts, 10 seconds ago.
when=$(( $(date +%s) - 10 ))
{ printf '\0\0\0\0\0\0\0\0\0\0\377\377\177\0\0\001\002\0\0\0\0\0\0\0'; le64 $when; } > "$T/rec"
dd if="$T/rec" of="$tcpto" bs=32 seek=3 conv=notrunc 2>/dev/null
out=$("$BIN/qmail-tcpto")
case $out in "127.0.0.1 timed out 1"[0-9]" seconds ago; # recent timeouts: 2") ;; *) fail "qmail-tcpto: $out" ;; esac

printf 'Subject: tcpto\n\nbody\n' > "$T/msg"
out=$(remote example.com s a@example.com < "$T/msg")
case $out in "ZSorry, I wasn't able to establish an SMTP connection: every address timed out recently"*) ;;
  *) fail "dead host not skipped: $out" ;; esac
sleep 0.3
eval "$(counters sink)"
expect_eq "connections to a dead host" "${sess:-0}" 0

"$BIN/qmail-tcpok" || fail "qmail-tcpok exit $?"
expect_eq "after qmail-tcpok" "$("$BIN/qmail-tcpto")" ""
expect_eq "tcpto size after qmail-tcpok" "$(wc -c < "$tcpto")" 2048
out=$(remote example.com s a@example.com < "$T/msg")
case $out in "r|K127.0.0.1 accepted message."*) ;; *) fail "after qmail-tcpok: $out" ;; esac

# Explicit queue arguments; a missing file is a temporary error.
"$BIN/qmail-tcpto" "$QUEUEDIR" > /dev/null || fail "qmail-tcpto queue arg"
"$BIN/qmail-tcpok" "$T/nonexistent" 2> "$T/err"
expect_eq "qmail-tcpok on a missing queue" $? 111
grep -q "qmail-tcpok: fatal: unable to clear" "$T/err" || fail "diagnostic: $(cat "$T/err")"
ok "dead host skipped, shown, forgotten"
