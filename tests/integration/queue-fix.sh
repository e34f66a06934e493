# queue-fix as a program: exit codes, dry run, repair, the numbered queue set,
# and ownership as root (real users) and as an ordinary user (the caller).
. "$(dirname "$0")/lib.sh"
Q=$T/queue
"$BIN/queue-fix" -s 11 "$Q" > "$T/out"; expect_eq "create" $? 0
grep -q "create directory $Q/mess/10" "$T/out" || fail "no creation lines"
"$BIN/queue-fix" -N -s 11 "$Q" > "$T/out"; expect_eq "clean -N" $? 0
[ -s "$T/out" ] && fail "clean queue produced output: $(cat "$T/out")"
ok "create, then clean"

if is_root; then
  expect_eq "mess owner" "$(stat -c %U:%G "$Q/mess")" "qmailq:qmail"
  expect_eq "info owner" "$(stat -c %U:%G "$Q/info/3")" "qmails:qmail"
  expect_eq "tcpto owner" "$(stat -c %U "$Q/lock/tcpto")" "qmailr"
  ok "root: real owners"
fi

# Damage: dry run reports and changes nothing, repair fixes, then clean.
rm -rf "$Q/local/4" "$Q/lock/trigger"
chmod 777 "$Q/todo"
queue_snapshot "$Q" > "$T/before"
"$BIN/queue-fix" -N -s 11 "$Q" > "$T/out"; expect_eq "-N on damage" $? 1
grep -q "would create directory $Q/local/4" "$T/out" || fail "-N output: $(cat "$T/out")"
grep -q "would chmod $Q/todo from 0777 to 0750" "$T/out" || fail "-N chmod: $(cat "$T/out")"
queue_snapshot "$Q" > "$T/after"
cmp -s "$T/before" "$T/after" || fail "-N changed the queue"
"$BIN/queue-fix" -s 11 "$Q" > "$T/out"; expect_eq "repair" $? 0
[ -p "$Q/lock/trigger" ] || fail "trigger not recreated"
"$BIN/queue-fix" -N -s 11 "$Q"; expect_eq "clean after repair" $? 0
ok "dry run and repair"

# A split change moves messages; problems give 2.
printf 'Fa@b\0' > "$Q/todo/x"; "$BIN/queue-fix" -q -s 11 "$Q" 2> "$T/err"; expect_eq "stray" $? 2
grep -q "warning: stray file $Q/todo/x" "$T/err" || fail "stray: $(cat "$T/err")"
rm "$Q/todo/x"
ok "strays -> 2"
printf 'Subject: x\n\nm\n' > "$T/msg"; envelope a@b c@d > "$T/env"
QUEUEDIR=$Q CONFSPLIT=11 "$BIN/qmail-queue" < "$T/msg" 1< "$T/env" || fail inject
id=$(basename "$(find "$Q/mess" -type f)")
mkdir -p "$Q/info/$((id % 11))"; printf 'Fa@b\0' > "$Q/info/$((id % 11))/$id"; chmod 600 "$Q/info/$((id % 11))/$id"
"$BIN/queue-fix" -q -s 5 "$Q"; expect_eq "resplit" $? 0
[ -f "$Q/mess/$((id % 5))/$id" ] && [ -f "$Q/info/$((id % 5))/$id" ] || fail "not moved to split 5"
[ -d "$Q/mess/7" ] && fail "old bucket left"
"$BIN/queue-fix" -N -s 5 "$Q"; expect_eq "clean at split 5" $? 0
ok "split change moves messages"

"$BIN/queue-fix" -x 2>/dev/null; expect_eq "usage" $? 100
"$BIN/queue-fix" -s 0 "$Q" 2>/dev/null; expect_eq "bad split" $? 100

# The numbered set from QUEUE_BASE/QUEUE_START/QUEUE_COUNT.
QUEUE_BASE=$T/base QUEUE_START=2 QUEUE_COUNT=3 "$BIN/queue-fix" -q; expect_eq "set" $? 0
for n in 2 3 4; do [ -p "$T/base/queue$n/lock/trigger" ] || fail "queue$n missing"; done
[ -e "$T/base/queue1" ] && fail "queue1 should not exist"
ok "numbered queue set"

# As an ordinary user everything belongs to that user.
if is_root; then
  mkdir "$T/u"; chown 65534:65534 "$T/u"
  setpriv --reuid=65534 --regid=65534 --clear-groups "$BIN/queue-fix" -q "$T/u/q"; expect_eq "as nobody" $? 0
  expect_eq "owner as nobody" "$(find "$T/u/q" ! -user 65534 | wc -l)" 0
  setpriv --reuid=65534 --regid=65534 --clear-groups "$BIN/queue-fix" -N "$T/u/q"; expect_eq "nobody -N" $? 0
  ok "ordinary user owns everything"
else
  expect_eq "owner as user" "$(find "$Q" ! -user "$(id -u)" | wc -l)" 0
  ok "ordinary user owns everything"
fi

# A new queue's root is marked the top of a directory hierarchy (chattr +T),
# so ext2/3/4 spread its directories over block groups; an existing queue's
# root is left as it is. Only where the file system keeps the flag.
mkdir "$T/attr"
if chattr +T "$T/attr" 2>/dev/null && lsattr -d "$T/attr" >/dev/null 2>&1; then
  "$BIN/queue-fix" -q "$T/new" || fail "queue-fix on a new queue"
  lsattr -d "$T/new" | cut -d' ' -f1 | grep -q T || fail "new queue root not +T: $(lsattr -d "$T/new")"
  "$BIN/queue-fix" -N "$T/new"; expect_eq "-N after +T" $? 0
  mkdir -p "$T/old/mess"
  "$BIN/queue-fix" -q "$T/old" || fail "queue-fix on an existing queue"
  lsattr -d "$T/old" | cut -d' ' -f1 | grep -q T && fail "existing queue root marked +T"
  ok "a new queue root is +T, an existing one untouched"
else
  echo "note: $T does not keep chattr +T; the top-directory check is skipped"
fi

# A defer/N without its message is removed (it speaks only of that message);
# an info/N without one is reported and left alone.
"$BIN/queue-fix" -q "$T/orph" || fail "queue-fix on a new queue"
split=$(head -n 1 "$TOP/conf-split")
printf 'R1 x@y\0text\0' > "$T/orph/defer/$((4711 % split))/4711"
printf 'Fs@x\0' > "$T/orph/info/$((4712 % split))/4712"
out=$("$BIN/queue-fix" "$T/orph" 2>&1); rc=$?
echo "$out" | grep -q "remove $T/orph/defer/$((4711 % split))/4711: its message is gone" || fail "no removal of the orphan defer/N: $out"
echo "$out" | grep -q "info/$((4712 % split))/4712 has no message in mess/ (orphan)" || fail "orphan info/N not reported: $out"
[ ! -e "$T/orph/defer/$((4711 % split))/4711" ] || fail "defer/N still there"
[ -e "$T/orph/info/$((4712 % split))/4712" ] || fail "info/N removed"
ok "orphan defer/N removed, orphan info/N reported (exit $rc)"

# On ext4 without a journal every directory of the queue gets synchronous
# directory updates (chattr +D), a new queue's without a line each; -N
# reports one that lost it and queue-fix puts it back; qmail-send warns at
# start-up about a queue whose info/ lacks it. With a journal no directory
# gets it. Loop-mounted file systems: root only.
if is_root && command -v mkfs.ext4 >/dev/null && truncate -s 64M "$T/nj.img" "$T/j.img" &&
   mkfs.ext4 -q -F -O ^has_journal "$T/nj.img" >/dev/null 2>&1 && mkfs.ext4 -q -F "$T/j.img" >/dev/null 2>&1 &&
   mkdir -p "$T/nj" "$T/j" && mount -o loop "$T/nj.img" "$T/nj" && on_exit umount "$T/nj" &&
   mount -o loop "$T/j.img" "$T/j" && on_exit umount "$T/j"; then
  out=$("$BIN/queue-fix" "$T/nj/q" 2>&1) || fail "queue-fix on ext4 without a journal: $out"
  echo "$out" | grep -q synchronous && fail "a new queue's directories each reported: $(echo "$out" | grep synchronous | head -2)"
  n=$(find "$T/nj/q" -type d | wc -l)
  d=$(find "$T/nj/q" -type d -exec lsattr -d {} + | awk '$1 ~ /D/' | wc -l)
  expect_eq "directories with +D (of $n)" "$d" "$n"
  "$BIN/queue-fix" -N "$T/nj/q"; expect_eq "-N on the new queue" $? 0
  chattr -D "$T/nj/q/mess/3" "$T/nj/q/info"
  out=$("$BIN/queue-fix" -N "$T/nj/q" 2>&1); rc=$?
  expect_eq "-N with +D missing" "$rc" 1
  echo "$out" | grep -q "would set synchronous directory updates (chattr +D) on $T/nj/q/mess/3: its file system has no journal" ||
    fail "-N did not report mess/3: $out"
  I=$T/nj/i
  new_instance "$I"
  chattr -D "$I/queue/info"
  start_instance "$I"
  grep -q "^warning: the queue's file system has no journal and its directories are not synchronous" "$I/log" ||
    fail "qmail-send did not warn: $(head -5 "$I/log")"
  stop_instance "$I"
  "$BIN/queue-fix" -q "$T/nj/q" || fail "queue-fix repair"
  lsattr -d "$T/nj/q/mess/3" "$T/nj/q/info" | awk '$1 !~ /D/ { print; bad = 1 } END { exit bad }' || fail "+D not put back"
  "$BIN/queue-fix" -q "$T/j/q" || fail "queue-fix on ext4 with a journal"
  d=$(find "$T/j/q" -type d -exec lsattr -d {} + | awk '$1 ~ /D/' | wc -l)
  expect_eq "directories with +D on ext4 with a journal" "$d" 0
  ok "no journal: every queue directory +D (-N reports, queue-fix repairs, qmail-send warns); with one: none"
else
  echo "note: needs root and mkfs.ext4 for loop file systems; the synchronous-directory check is skipped"
fi
