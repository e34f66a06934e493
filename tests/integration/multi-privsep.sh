# As root: qscheduler -d runs each queue's daemons under their own uids, and
# the POSIX IPC objects are not writable by other users (segment root:qmail
# 0664, message queues qmailq:qmail 0660); a squatted name is replaced.
. "$(dirname "$0")/lib.sh"
need_root "switches uids"
"$TOP/package/users" >/dev/null || fail "package/users"
I=$T/i
mkdir -p "$I/control"
echo test.example > "$I/control/me"
chmod -R a+rX "$I"
B=$I/base
mkdir -p "$B"
# Learn the segment's name with a first run, then let nobody squat it.
QMAILHOME=$I QUEUE_BASE=$B QUEUE_COUNT=1 setsid "$BIN/qscheduler" -d -n ./Maildir/ > "$I/log0" 2>&1 &
QS=$!
on_exit stop_pid $QS
one() { QMAILHOME=$I QUEUE_BASE=$B "$BIN/qscheduler" -l 2>/dev/null | grep -q ' active '; }
wait_for 20 one || fail "first run: $(cat "$I/log0")"
before=$(ls /dev/shm | grep '^qfleet1\.')
kill -TERM $QS; wait_for 20 sh -c "! kill -0 $QS 2>/dev/null"
seg=$before
for s in $before; do [ -e "/dev/shm/$s" ] || seg=$s; done
[ -n "$seg" ] || fail "no segment name"
if [ "$(stat -c %a /dev/shm)" = 1777 ]; then
  setpriv --reuid=65534 --regid=65534 --clear-groups sh -c "umask 0; echo squat > /dev/shm/$seg" || fail "squatting"
else
  # Nobody cannot create it here: plant nobody's object by hand instead.
  echo "note: /dev/shm is mode $(stat -c %a /dev/shm), not 1777: the squatted name is planted by root"
  (umask 0; echo squat > "/dev/shm/$seg") && chown 65534 "/dev/shm/$seg" || fail "planting the squatted name"
fi
expect_eq "squatted" "$(stat -c %U "/dev/shm/$seg")" nobody
QMAILHOME=$I QUEUE_BASE=$B QUEUE_COUNT=2 setsid "$BIN/qscheduler" -d -n ./Maildir/ > "$I/log" 2>&1 &
QS=$!
on_exit stop_pid $QS
two() { [ "$(QMAILHOME=$I QUEUE_BASE=$B "$BIN/qscheduler" -l 2>/dev/null | grep -c ' active ')" = 2 ]; }
wait_for 20 two || fail "not started: $(cat "$I/log")"
expect_eq "segment owner and mode" "$(stat -c '%U:%G %a' "/dev/shm/$seg")" "root:qmail 664"
if setpriv --reuid=65534 --regid=65534 --clear-groups sh -c "echo x >> /dev/shm/$seg" 2>/dev/null; then
  fail "nobody could write the segment"
fi
ok "squatted segment replaced: /dev/shm/$seg root:qmail 0664, not writable by nobody"
mkdir "$T/mq"
if mount -t mqueue none "$T/mq" 2>/dev/null; then
  unmount_mq() { umount "$T/mq" 2>/dev/null; }
  on_exit unmount_mq
  for f in "$T"/mq/"$seg".q1 "$T"/mq/"$seg".q2; do
    [ -e "$f" ] || fail "no message queue $f: $(ls "$T/mq")"
    expect_eq "$(basename "$f")" "$(stat -c '%U:%G %a' "$f")" "qmailq:qmail 660"
  done
  ok "message queues qmailq:qmail 0660"
else
  echo "message queue modes not checked: this machine does not let root mount mqueue"
fi
for q in 1 2; do
  p=$(QMAILHOME=$I QUEUE_BASE=$B "$BIN/qscheduler" -l | awk -v q=$q '$1 == q { print $3 }')
  expect_eq "queue $q qmail-send uid" "$(awk '/^Uid:/ {print $2}' /proc/$p/status)" "$(id -u qmails)"
done
ok "qmail-send of each queue runs as qmails"
