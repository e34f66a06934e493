# qmail-queued's commit order follows the file system (qmail-queued(8),
# COMMITS). Where the journal orders data before links (ext4 with a
# journal, xfs) the message's and envelope's data is written out
# (sync_file_range) before the todo/ link, and one fsync, of the todo/
# directory, comes after the link. On ext4 without a journal every fsync of
# the files and of mess/ comes before the link, and the todo/ directory's
# after it.
# Then, on ext4 with a journal, EIO from an fsync leaves the queue as it was,
# and the worker killed at each of its mutating calls meets crash-queued's
# oracle.
. "$(dirname "$0")/../integration/lib.sh"
need_root "loop-mounted file systems"
command -v mkfs.ext4 >/dev/null || skip "needs mkfs.ext4 (package/deps test)"
command -v strace >/dev/null || skip "needs strace (package/deps test)"

loopfs ext4j "$T/i" || skip "cannot make and mount an ext4 file system on a loop device"
# crash.lib makes its instance in $T/i: on the ext4 just mounted there.
. "$(dirname "$0")/crash.lib"

# commit_order: the instance $I's qmail-queued worker's sync_file_range,
# link and fsync calls for one message, as a word of S (sync_file_range),
# L (the todo/ link) and F (fsync), in the order they began, in $o.
commit_order() {
  printf '1\n' > "$I/control/queuedworkers"
  start_instance "$I"
  _p=$(queued_worker)
  [ -n "$_p" ] || fail "no qmail-queued worker"
  strace -f -qq -y -p "$_p" -o "$T/order" -e trace=sync_file_range,link,fsync 2>/dev/null &
  _st=$!
  traced "$_p" || fail "strace did not attach to the qmail-queued worker"
  _got=$(crash_msg order | QMAILHOME=$I QUEUEDIR=$I/queue "$HELPERS/qq-client" s@example.org u@test.example)
  strace_stop $_st
  expect_eq "injection for the order" "$_got" "0 socket"
  wait_count 10 "$I/home/Maildir" 1 || fail "not delivered: $(tail -3 "$I/log")"
  stop_instance "$I"
  rm -f "$I"/home/Maildir/new/*
  o=$(sed -n 's/^[0-9]* *\(sync_file_range\|fsync\|link\)(\(.*\)$/\1 \2/p' "$T/order" | while read -r _c _a; do
    case $_c in
      sync_file_range) printf S ;;
      fsync) printf F ;;
      link) case $_a in *'/todo/'*) printf L ;; esac ;;
    esac
  done)
  # the file of the last fsync (strace -y names it): fsync(5</…/queue/todo>)
  last_fsync=$(sed -n 's/^[0-9]* *fsync([0-9]*<\([^>]*\)>.*/\1/p' "$T/order" | tail -n 1)
}

commit_order
case $o in
  SSSSLF) ;;
  *) fail "ext4 with a journal: commit order $o, want SSSSLF (data written out, link, one fsync)" ;;
esac
expect_eq "ext4 with a journal: the one fsync's file" "$last_fsync" "$I/queue/todo"
ok "ext4 with a journal: data written out, then the todo/ link, then one fsync of todo/ ($o)"

I_J=$I
loopfs ext4nj "$T/nj" || fail "cannot make ext4 without a journal"
I=$T/nj/i
new_instance "$I"
commit_order
expect_eq "ext4 without a journal: commit order" "$o" FFFLF
ok "ext4 without a journal: message, envelope and mess/ synced before the todo/ link ($o)"
if command -v mkfs.xfs >/dev/null && loopfs xfs "$T/x"; then
  I=$T/x/i
  new_instance "$I"
  commit_order
  expect_eq "xfs: commit order" "$o" SSSSLF
  expect_eq "xfs: the one fsync's file" "$last_fsync" "$I/queue/todo"
  ok "xfs: as ext4 with a journal ($o)"
else
  echo "xfs: skipped (no mkfs.xfs or no xfs in this kernel)"
fi
I=$I_J

# EIO from the first fsync after the link: the client gets qmail-queue's
# code for a failed write, and the link, the envelope and the message go.
printf '1\n' > "$I/control/queuedworkers"
start_instance "$I"
queue_snapshot "$I/queue" > "$T/before"
_p=$(queued_worker)
strace -f -qq -p "$_p" -o "$T/eio" -e trace=fsync,link,unlink -e inject=fsync:error=EIO:when=1 2>/dev/null &
_st=$!
traced "$_p" || fail "strace did not attach to the qmail-queued worker"
rc=$(crash_msg eio | QMAILHOME=$I QUEUEDIR=$I/queue "$HELPERS/qq-client" s@example.org u@test.example | cut -d' ' -f1)
strace_stop $_st
case $rc in 53|66) ;; *) fail "EIO from fsync: client exit $rc, want 53 or 66" ;; esac
grep -q 'link(.*/todo/[0-9]*") = 0' "$T/eio" || fail "EIO case: no todo/ link before the fsyncs: $(head -5 "$T/eio")"
grep -q 'unlink(.*/todo/[0-9]*") = 0' "$T/eio" || fail "EIO case: the todo/ link was not taken back"
sleep 0.3
queue_snapshot "$I/queue" > "$T/after"
cmp -s "$T/before" "$T/after" || { diff "$T/before" "$T/after" | head -5; fail "queue changed by EIO from fsync"; }
stop_instance "$I"
ok "EIO from an fsync after the link: exit $rc, the link taken back, queue unchanged"

: > "$T/queued"; : > "$T/refused"
crash_injector qmail-queued
ok "ext4 with a journal: $crash_summary"

# todo-proc on the same file system writes a batch out (sync_file_range)
# and leaves its commit to qmail-clean's fsync of todo/ (todo-proc(8)):
# killed at each of its mutating calls, then failing each once (EIO from
# sync_file_range among them), every message still arrives, at most one
# copy more where a delivery was in flight, and the queue converges.
CRASH_CALLS="$CRASH_CALLS sync_file_range"
crash_daemon todo-proc 1
grep -q '^sync_file_range ' "$T/points" || fail "todo-proc made no sync_file_range call on ext4 with a journal"
CRASH_ERRORS=1 crash_daemon todo-proc 2
ok "ext4 with a journal, todo-proc: $crash_summary"

# qmail-local there writes a Maildir file out (sync_file_range) and fsyncs
# only new/ (qmail-local(8)): qmail-lspawn and its delivery child killed at
# each mutating call, then failing each once, lose nothing.
crash_daemon qmail-lspawn 2
CRASH_ERRORS=1 crash_daemon qmail-lspawn 2
ok "ext4 with a journal, qmail-lspawn: $crash_summary"
