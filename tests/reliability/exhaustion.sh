# Resource exhaustion (reliability.md R1, R3, R5, R6, R9), as root (small
# file systems are tmpfs mounts): the queue's file system full of bytes or
# of inodes, or remounted read-only; a full Maildir; qmail-send and todo-proc
# out of descriptors. Each time: injection fails with a temporary code and
# leaves nothing behind, the daemons keep running (same pids), nothing
# accepted is lost, and once the resource is back the backlog drains.
. "$(dirname "$0")/../integration/lib.sh"
need_root "mounts small file systems"
command -v prlimit >/dev/null || skip "needs prlimit (util-linux)"
mkdir "$T/fs"
mount -t tmpfs -o size=4m,nr_inodes=2000 tmpfs "$T/fs" || skip "cannot mount tmpfs here"
on_exit umount -l "$T/fs"
I=$T/fs/i
new_instance "$I"
start_instance "$I"
pids() { ps -o pid= --ppid "$(cat "$I/pid")" | sort | tr '\n' ' '; }
before=$(pids)
msg() { printf 'Subject: %s\nX-Token: %s\n\n%s\n' "$1" "$1" "$2"; }
# qi rcpt < message: qmail-queue with the envelope kept off the small file
# system (lib.sh's inject writes it into the instance).
qi() { envelope s@example.org "$1" > "$T/env.qi"; QUEUEDIR=$I/queue "$BIN/qmail-queue" 1< "$T/env.qi"; }
delivered() { cat "$I"/home/Maildir/new/* 2>/dev/null | grep -c "^X-Token: $1\$"; }

# R1: the queue's file system full of bytes.
for i in 1 2 3; do msg ok$i "before the disk fills" | qi u@test.example || fail "inject ok$i"; done
mk() { [ "$(delivered ok3)" = 1 ]; }
wait_for 20 mk || fail "not delivered before the disk filled"
stop_instance "$I"   # the filler goes in while nothing delivers: mail stays queued
start_instance "$I"
before=$(pids)
fallocate -l 3900k "$T/fs/filler" 2>/dev/null || dd if=/dev/zero of="$T/fs/filler" bs=64k count=61 2>/dev/null
big=$(head -c 200000 /dev/zero | tr '\0' x)
snap() { queue_snapshot "$I/queue" | grep -v ' lock\|lock/\|inject.sock'; }
snap > "$T/before"
: > "$T/queued"
rc=0
for i in 1 2 3 4 5 6; do
  msg full$i "$big" | qi u@test.example; rc=$?
  [ $rc != 0 ] && break
  echo "full$i queued" >> "$T/queued"
done
expect_eq "injection on a full disk" "$rc" 53
snap > "$T/after"
# Only the messages that were accepted may have changed the queue.
if [ ! -s "$T/queued" ]; then
  cmp -s "$T/before" "$T/after" || { diff "$T/before" "$T/after" | head; fail "a refused message left files"; }
fi
[ -z "$(find "$I/queue/intd" "$I/queue/pid" -type f)" ] || fail "intd/ or pid/ not empty after the refusal: $(find "$I/queue/intd" "$I/queue/pid" -type f)"
sleep 1
expect_eq "daemons after ENOSPC" "$(pids)" "$before"
rm -f "$T/fs/filler"
msg after-full "space is back" | qi u@test.example || fail "inject after the disk emptied"
af() { [ "$(delivered after-full)" = 1 ]; }
wait_for 20 af || fail "not delivered after space came back: $(tail -5 "$I/log")"
while read -r t q; do
  w() { [ "$(delivered "$t")" = 1 ]; }
  wait_for 20 w || fail "$t, accepted before the disk filled, not delivered"
done < "$T/queued"
ok "full disk: 53, nothing left behind, daemons unchanged, delivered once space came back"

# R5: out of inodes.
n=0
while :; do
  n=$((n + 1))
  touch "$T/fs/i.$n" 2>/dev/null || break
  [ $n -gt 5000 ] && fail "tmpfs nr_inodes not enforced"
done
msg noinode x | qi u@test.example; rc=$?
case $rc in 53|63|64|65|66) ;; *) fail "injection without inodes: exit $rc" ;; esac
rm -f "$T"/fs/i.*
msg inode-back x | qi u@test.example || fail "inject after inodes came back"
ib() { [ "$(delivered inode-back)" = 1 ]; }
wait_for 20 ib || fail "not delivered after inodes came back"
expect_eq "daemons after running out of inodes" "$(pids)" "$before"
ok "no inodes: temporary exit $rc; daemons unchanged; delivered once inodes came back"

# R3: the recipient's Maildir on a full file system: a deferral, then one
# delivery, no bounce.
mkdir "$T/md"
mount -t tmpfs -o size=256k,mode=755 tmpfs "$T/md" || fail "mount the Maildir fs"
on_exit umount -l "$T/md"
mkdir -p "$T/md/Maildir/new" "$T/md/Maildir/cur" "$T/md/Maildir/tmp"
fallocate -l 255k "$T/md/filler" 2>/dev/null || dd if=/dev/zero of="$T/md/filler" bs=1k count=255 2>/dev/null
printf '=v:%s:%s:%s:%s:::\n.\n' "$(id -un)" "$(id -u)" "$(id -g)" "$T/md" > "$I/users/assign.new"
sed '/^\.$/d' "$I/users/assign" > "$I/users/assign.tmp"
cat "$I/users/assign.tmp" "$I/users/assign.new" > "$I/users/assign"; rm -f "$I/users/assign."*
msg mdfull "$big" | qi v@test.example || fail "inject for v"
deferred() { grep -q 'deferral:.*No_space\|deferral:.*space' "$I/log"; }
wait_for 20 deferred || fail "no deferral for the full Maildir: $(tail -5 "$I/log")"
[ -z "$(ls "$T/md/Maildir/tmp")" ] || fail "a tmp file left in the full Maildir"
rm -f "$T/md/filler"
kill -ALRM "$(cat "$I/pid")"
md() { [ "$(cat "$T"/md/Maildir/new/* 2>/dev/null | grep -c '^X-Token: mdfull$')" = 1 ]; }
wait_for 20 md || fail "not delivered after the Maildir had room: $(tail -5 "$I/log")"
grep -q '^bounce msg' "$I/log" && fail "a bounce for a full Maildir"
ok "full Maildir: deferred, tmp/ clean, delivered once when room came back, no bounce"

# R9: the queue's file system read-only (EROFS). A tmpfs cannot be
# remounted read-only while the daemons hold files open for writing, so the
# read-only spell is made with strace: every creation, link and unlink of
# qmail-queue, then of todo-proc for a few seconds, fails with EROFS.
if command -v strace >/dev/null; then
  msg ro-before x | qi u@test.example || fail "inject before ro"
  rb() { [ "$(delivered ro-before)" = 1 ]; }
  wait_for 20 rb || fail "not delivered before ro"
  snap > "$T/before"
  msg ro x > "$T/ro"; envelope s@example.org u@test.example > "$T/env.qi"
  QUEUEDIR=$I/queue strace -f -qq -o /dev/null -e trace=openat,link,unlink,rename \
    -e inject=openat:error=EROFS:when=3+ -e inject=link:error=EROFS -e inject=unlink:error=EROFS \
    "$BIN/qmail-queue" < "$T/ro" 1< "$T/env.qi"; rc=$?
  case $rc in 53|63|64|65|66) ;; *) fail "injection into a read-only queue: exit $rc" ;; esac
  snap > "$T/after"
  cmp -s "$T/before" "$T/after" || { diff "$T/before" "$T/after" | head; fail "the refused message left files"; }
  TP=$(pgrep -P "$(cat "$I/pid")" -x todo-proc)
  strace -f -qq -p "$TP" -o /dev/null -e trace=openat,unlink -e inject=openat:error=EROFS -e inject=unlink:error=EROFS &
  ST=$!
  on_exit stop_pid $ST
  wait_for 10 sh -c "grep -qs '^TracerPid:[[:space:]]*[1-9]' /proc/$TP/status" || fail "strace did not attach"
  msg ro-during x | qi u@test.example || fail "inject during the read-only spell of todo-proc"
  sleep 3
  [ "$(delivered ro-during)" = 0 ] || fail "delivered while todo-proc could not write"
  kill $ST; wait $ST 2>/dev/null
  expect_eq "daemons after a read-only spell" "$(pids)" "$before"
  timeout 1 sh -c "printf I > '$I/queue/lock/trigger'"
  ra() { [ "$(delivered ro-during)" = 1 ]; }
  wait_for 70 ra || fail "not delivered after the read-only spell: $(tail -5 "$I/log")"
  ok "read-only queue: qmail-queue exits $rc and leaves nothing; todo-proc waits, then delivers once"
fi

# R6: qmail-send and todo-proc with 16 descriptors: no spin; mail flows when
# the limit is raised again.
S=$(cat "$I/pid"); TP=$(pgrep -P "$S" -x todo-proc)
prlimit --pid "$S" --nofile=16:1024 && prlimit --pid "$TP" --nofile=16:1024 || fail "prlimit"
for i in 1 2 3 4 5; do msg fd$i x | qi u@test.example || fail "inject fd$i"; done
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
t0=$(( $(ticks "$S") + $(ticks "$TP") ))
sleep 3
t1=$(( $(ticks "$S") + $(ticks "$TP") ))
hz=$(getconf CLK_TCK)
[ $((t1 - t0)) -le $((3 * hz / 10)) ] || fail "qmail-send and todo-proc used $((t1 - t0)) ticks in 3 s at 16 fds: spinning"
prlimit --pid "$S" --nofile=1024:1024 && prlimit --pid "$TP" --nofile=1024:1024 || fail "prlimit back"
kill -ALRM "$S"
fd() { [ "$(delivered fd5)" = 1 ] && [ "$(delivered fd1)" = 1 ]; }
wait_for 30 fd || { kill -ALRM "$S"; timeout 1 sh -c "printf I > '$I/queue/lock/trigger'"; wait_for 30 fd; } ||
  fail "not delivered after the fd limit was raised: $(tail -5 "$I/log")"
for i in 1 2 3 4 5; do expect_eq "fd$i copies" "$(delivered fd$i)" 1; done
ok "16 fds: $((t1 - t0)) ticks in 3 s (no spin); all 5 delivered once the limit was raised"
stop_instance "$I"
