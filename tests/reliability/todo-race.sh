# Issue 11, defect 2: the fsync of todo/ fails (EIO) after qmail-queue has
# linked todo/N, while todo-proc is awake. qmail-queue exits 66 and takes the
# message back; todo-proc must not have acted on it meanwhile: the message is
# never delivered (the client was told it failed) and nothing of it stays in
# the queue (no info/N or local/N without mess/N).
. "$(dirname "$0")/../integration/lib.sh"
command -v strace >/dev/null || skip "needs strace (package/deps test)"
I=$T/i
new_instance "$I"
start_instance "$I"
printf 'Subject: first\nX-Token: eio\n\nthe one that fails\n' > "$T/m1"
printf 'Subject: second\nX-Token: wake\n\nthe one that wakes todo-proc\n' > "$T/m2"
envelope s@example.org u@test.example > "$T/env"
# fsyncs of qmail-queue: mess, intd, mess/S, todo/S: the 4th fails with EIO,
# 3 s after it was asked for, so todo/N is there for 3 s.
QUEUEDIR=$I/queue strace -f -o "$T/strace" -e trace=fsync,link \
  -e inject=fsync:error=EIO:delay_enter=3000000:when=4 "$BIN/qmail-queue" < "$T/m1" 1< "$T/env" &
QQ=$!
on_exit stop_pid $QQ
linked() { grep -q 'link(.*/todo/' "$T/strace"; }
wait_for 10 linked || fail "qmail-queue did not link todo/: $(cat "$T/strace")"
id=$(sed -n 's,.*link(.*/todo/\([0-9]*\)".*,\1,p' "$T/strace" | head -n 1)
[ -f "$I/queue/todo/$id" ] || fail "todo/$id is not there during the delayed fsync"
# A second injection wakes todo-proc, which scans todo/ and finds both.
QUEUEDIR=$I/queue "$BIN/qmail-queue" < "$T/m2" 1< "$T/env" || fail "second injection"
wait $QQ
expect_eq "qmail-queue's exit after EIO on the todo/ fsync" $? 66
woke() { grep -qs 'X-Token: wake' "$I"/home/Maildir/new/*; }
wait_for 20 woke || fail "the second message was not delivered: $(cat "$I/log")"
# Give a wrongly taken first message time to show up.
sleep 2
grep -l 'X-Token: eio' "$I"/home/Maildir/new/* 2>/dev/null && fail "the refused message was delivered"
for d in todo intd info local remote mess; do
  left=$(find "$I/queue/$d" -name "$id" | head -n 1)
  [ -z "$left" ] || fail "$left left behind"
done
grep -q 'Unable_to_open\|Unable to open' "$I/log" && fail "a delivery without its message: $(grep -i 'unable' "$I/log")"
wait_for 10 queue_empty "$I" || fail "queue not empty: $(find "$I/queue" -type f)"
ok "EIO on the todo/ fsync: exit 66, never delivered, nothing left of message $id"
