# xfs that shuts down between a commit's last change and its fsync: xfs's
# fsync of a directory returns 0 after the shutdown, whose log was never
# written, for a link that is gone after the next mount (sys/fs.h,
# fsync_dir_fd). Each program that promises something outside the file
# system on a directory's fsync must refuse instead: qmail-queue and
# qmail-queued must not give 0 to their client, qmail-local must not say
# the Maildir delivery succeeded. strace holds the last fsync back for
# 2 s; the file system shuts down in that time (xfs_io "shutdown" without
# -f: the log is not flushed, as at a power cut or an I/O error). Then it is
# unmounted and mounted again, and the oracle is: what was promised is
# there.
. "$(dirname "$0")/../integration/lib.sh"
need_root "loop-mounted file systems"
command -v strace >/dev/null || skip "needs strace (package/deps test)"
command -v xfs_io >/dev/null && command -v mkfs.xfs >/dev/null || skip "needs xfsprogs (package/deps test)"
loopfs xfs "$T/i" || skip "cannot make and mount an xfs file system on a loop device"
# crash.lib makes its instance in $T/i: on the xfs just mounted there.
. "$(dirname "$0")/crash.lib"
sync -f "$I/control/me"

# held_fsync n trace: strace's options that hold the n-th fsync back for 2 s
# and write the trace of fsync, link and rename calls to trace.
held_fsync() { echo "-f -qq -o $2 -e trace=fsync,link,renameat2 -e inject=fsync:delay_enter=2000000:when=$1"; }
# shut_down_after pattern trace: once the trace has pattern (what comes just
# before the held fsync), the file system shuts down without flushing its log.
shut_down_after() {
  wait_for 10 grep -qs "$1" "$2" || fail "the traced program did not reach $1: $(cat "$2")"
  sleep 0.3
  xfs_io -x -c shutdown "$I" || fail "xfs_io shutdown failed"
}
# remount: every process on the file system gone, unmount (the log recovery
# of the next mount replays what was written), mount again.
remount() {
  _u=0
  while ! umount "$I" 2>/dev/null; do
    _u=$((_u + 1))
    [ $_u -lt 100 ] || fail "cannot unmount $I: $(fuser -vm "$I" 2>&1 | head -5)"
    sleep 0.1
  done
  mount -o loop "$T/xfs.img" "$I" || fail "cannot mount $T/xfs.img again"
}
in_queue() { [ -n "$(find "$I/queue/mess" -type f -exec grep -l "^X-Token: $1\$" {} + 2>/dev/null)" ]; }

# 1. qmail-queue: fsyncs of the message, the envelope, mess/, then (the 4th)
# todo/ after the link.
crash_msg q1 > "$T/msg"
envelope s@example.org u@test.example > "$T/env"
QUEUEDIR=$I/queue strace $(held_fsync 4 "$T/tq") "$BIN/qmail-queue" < "$T/msg" 1< "$T/env" &
qq=$!
shut_down_after '^[0-9]* *link(.*/todo/' "$T/tq"
wait $qq
rc=$?
remount
if [ $rc = 0 ]; then
  in_queue q1 || fail "qmail-queue: exit 0 for a message the shutdown threw away"
else
  ok "qmail-queue: exit $rc when the file system shut down before the fsync of todo/"
fi
[ $rc != 0 ] || fail "qmail-queue: exit 0 after the file system shut down before its last fsync"
"$BIN/queue-fix" -q "$I/queue" || fail "queue-fix after the shutdown"

# 2. qmail-local to a Maildir on xfs: the file is written out, renamed into
# new/, and new/ fsynced (its only fsync).
crash_msg l1 > "$T/msg"
strace $(held_fsync 1 "$T/tl") "$BIN/qmail-local" -- u "$I/home" u "" "" test.example s@example.org ./Maildir/ < "$T/msg" > "$T/lout" 2>&1 &
ql=$!
shut_down_after '^[0-9]* *renameat2(.*new/' "$T/tl"
wait $ql
rc=$?
remount
got=$(grep -l "^X-Token: l1\$" "$I"/home/Maildir/new/* 2>/dev/null | wc -l)
[ $rc != 0 ] || [ "$got" = 1 ] || fail "qmail-local: exit 0 for a delivery the shutdown threw away"
[ $rc != 0 ] || fail "qmail-local: exit 0 after the file system shut down before the fsync of new/"
ok "qmail-local: exit $rc ($(head -c 120 "$T/lout")) when the file system shut down before the fsync of new/"

# 3. qmail-queued: the worker writes the files out, links todo/N and fsyncs
# todo/ once (qmail-queued(8), COMMITS); every fsync of the worker is held.
printf '1\n' > "$I/control/queuedworkers"
start_instance "$I"
sid=$(cat "$I/pid")   # (unreadable after the shutdown)
_p=$(queued_worker)
[ -n "$_p" ] || fail "no qmail-queued worker"
strace -p "$_p" $(held_fsync 1 "$T/td") 2>/dev/null &
_st=$!
traced "$_p" || fail "strace did not attach to the qmail-queued worker"
crash_msg d1 | QMAILHOME=$I QUEUEDIR=$I/queue "$HELPERS/qq-client" s@example.org u@test.example > "$T/qc" &
qc=$!
shut_down_after '^[0-9]* *link(.*/todo/' "$T/td"
wait $qc
strace_stop $_st
pkill -9 -s "$sid" 2>/dev/null
wait_for 20 sh -c "! pgrep -s $sid >/dev/null" || fail "the instance did not die"
remount
rm -f "$I/pid"
case $(cat "$T/qc") in
  "0 "*) in_queue d1 || fail "qmail-queued: 0 for a message the shutdown threw away"
         fail "qmail-queued: 0 after the file system shut down before the worker's fsync" ;;
esac
ok "qmail-queued: '$(cat "$T/qc")' when the file system shut down before the fsync of todo/"
