# Issue 11, defect 3 and the bar of reliability.md R4: a failed fsync is never
# success. EIO on each of qmail-queue's four fsyncs (message, envelope, the
# mess/ directory, the todo/ directory) gives the code qmail-queue(8)
# documents (53, 53, 53, 66) and leaves the queue byte for byte as it was.
. "$(dirname "$0")/../integration/lib.sh"
command -v strace >/dev/null || skip "needs strace (package/deps test)"
mkqueue "$T/q"
printf 'Subject: eio\n\nx\n' > "$T/m"
envelope s@example.org u@example.net > "$T/env"
queue_snapshot "$T/q" > "$T/before"
for k in 1:53:message 2:53:envelope 3:53:mess-directory 4:66:todo-directory; do
  n=${k%%:*} rest=${k#*:} want=${rest%%:*} what=${rest#*:}
  QUEUEDIR=$T/q strace -f -o /dev/null -e trace=fsync -e inject=fsync:error=EIO:when=$n \
    "$BIN/qmail-queue" < "$T/m" 1< "$T/env"
  expect_eq "exit after EIO on the fsync of the $what" $? "$want"
  queue_snapshot "$T/q" > "$T/after"
  cmp -s "$T/before" "$T/after" || { diff "$T/before" "$T/after" | head -5; fail "queue changed by EIO on the fsync of the $what"; }
done
ok "EIO on each fsync: 53, 53, 53, 66; queue unchanged"
