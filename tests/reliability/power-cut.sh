# Power loss (reliability.md C10): the file system under a running instance
# is shut down the way xfstests emulates a power cut (xfs_io "shutdown"
# without -f: FS_IOC_SHUTDOWN with NOLOGFLUSH, on ext4 and on xfs alike).
# What its journal had not committed, and what had not reached the device,
# is gone; the file system is unmounted, checked where it has no journal,
# and mounted again.
#
# Each cycle: four clients inject through qmail-queued while qmail-send
# delivers to a Maildir on the same file system, and each client writes
# down, outside it, every message it got 0 for; the cut comes 0.5 to 2 s
# in. In two cycles of three todo-proc is stopped, so that what was
# acknowledged is only in todo/ at the cut. After the mount the instance
# starts as it is, and the oracle is: every acknowledged message is
# delivered, none is delivered truncated, and the queue drains to nothing
# that queue-fix -N would mend.
#
# Cycles run on ext4 with a journal and on xfs (qmail-queued's one-commit
# order), and on ext4 without one (e2fsck -p first, as at boot; the
# two-round order, and the synchronous directories queue-fix sets there:
# without them entries of finished messages came back after e2fsck naming
# inodes that new files had taken, and a queued message's mess/N with ten
# names stayed deferred). A control cycle first shows the oracle can fail:
# with fsync a no-op (LD_PRELOAD) the same cut must lose acknowledged
# messages. POWER_CUT_KINDS and POWER_CUT_CYCLES (per file system) override.
# A client may get its answer in the moment of the cut: on xfs that once
# was 0 for a message the shutdown threw away (a directory's fsync there
# returns 0 after a shutdown: sys/fs.h, fsync_dir_fd; xfs-shutdown.sh).
# Without a journal, e2fsck sometimes clears the mess/N entry of a message
# in flight and leaves its intd/N: qmail-clean removes that at its start.
. "$(dirname "$0")/../integration/lib.sh"
need_root "loop-mounted file systems"
command -v mkfs.ext4 >/dev/null || skip "needs mkfs.ext4 (package/deps test)"
command -v xfs_io >/dev/null || skip "needs xfs_io (xfsprogs: package/deps test)"
command -v g++ >/dev/null || skip "needs g++ for the control's fsync shim"

CYCLES=${POWER_CUT_CYCLES:-6}
KINDS=${POWER_CUT_KINDS:-ext4j ext4nj xfs}
CL_ENV=
M=$T/m
mkdir -p "$M"
: > "$T/log"

# mkloop kind: a new file system of kind (ext4j, ext4nj, xfs) in $T/img.
mkloop() {
  rm -f "$T/img"
  truncate -s 400M "$T/img" || return 1
  case $1 in
    ext4j) mkfs.ext4 -q -F "$T/img" ;;
    ext4nj) mkfs.ext4 -q -F -O ^has_journal "$T/img" ;;
    xfs) mkfs.xfs -q -f "$T/img" ;;
  esac >/dev/null 2>&1
}
mnt() { mount -o loop "$T/img" "$M"; }
# unmnt: every process of the cycle gone, then a real unmount (a lazy one
# would let the next mount see the old, shut-down super block).
unmnt() {
  _u=0
  while ! umount "$M" 2>/dev/null; do
    _u=$((_u + 1))
    [ $_u -lt 100 ] || { fuser -vm "$M" 2>&1 | head -5; fail "cannot unmount $M"; }
    sleep 0.1
  done
}
on_exit sh -c "umount '$M' 2>/dev/null || umount -l '$M' 2>/dev/null; true"

I=$M/i
msg() { printf 'Subject: cut %s\nX-Token: %s\n\nbody of %s\n' "$1" "$1" "$1"; }

# clients c: four loops of qq-client (qmail-queued's socket, or qmail-queue
# when nothing listens; with $CL_ENV's variables in their environment), each appending the tokens it got 0 for to
# $T/acked.c.k, until $T/stop appears.
clients() {
  rm -f "$T/stop"
  for _k in 1 2 3 4; do
    (
      n=0
      while [ ! -e "$T/stop" ]; do
        n=$((n + 1))
        tok=$1-$_k-$n
        r=$(msg "$tok" | env $CL_ENV QMAILHOME=$I QUEUEDIR=$I/queue "$HELPERS/qq-client" s@example.org u@test.example 2>/dev/null)
        case $r in "0 "*) echo "$tok" >> "$T/acked.$1.$_k" ;; esac
      done
    ) &
    eval "cl_$_k=\$!"
  done
}
clients_stop() {
  : > "$T/stop"
  wait "$cl_1" "$cl_2" "$cl_3" "$cl_4" 2>/dev/null
}

# The instance keeps its pid and log outside the file system that is cut.
# inst_start waits for this start's first status line (the log holds every
# cycle's) and for todo-proc.
inst_start() {
  _from=$(($(wc -l < "$T/log") + 1))
  QFLEET_EMBEDDED=1 QMAILHOME=$I QUEUEDIR=$I/queue setsid "$BIN/qmail-start" ./Maildir/ >> "$T/log" 2>&1 &
  ipid=$!
  on_exit sh -c "pkill -9 -s $ipid 2>/dev/null; true"
  wait_for 20 sh -c "tail -n +$_from '$T/log' | grep -q '^status: local'" ||
    fail "qmail-send did not start after the cut: $(tail -5 "$T/log")"
  wait_for 20 pgrep -s "$ipid" -x todo-proc >/dev/null || fail "no todo-proc in the instance"
}
inst_stop() {
  kill -TERM "$ipid" 2>/dev/null
  wait_for 30 sh -c "! kill -0 $ipid 2>/dev/null" || fail "qmail-send did not stop"
  wait "$ipid" 2>/dev/null
}
inst_kill() {
  pkill -9 -s "$ipid" 2>/dev/null
  wait_for 20 sh -c "! pgrep -s $ipid >/dev/null" || fail "the instance's processes did not die: $(ps -o pid=,stat=,wchan:30=,comm= -s "$ipid" | tr '\n' ';')"
  wait "$ipid" 2>/dev/null
}

# cut: the power goes: nothing the journal has not committed survives. The
# shutdown stops the file system's own writes, but not the write-back of
# metadata buffers that ext4 without a journal leaves dirty in the block
# device (the unmount would write them): the disk as it was at the cut is a
# copy of the image taken at once, and recover mounts that copy.
cut() {
  xfs_io -x -c shutdown "$M" || fail "xfs_io shutdown failed"
  cp --sparse=always "$T/img" "$T/img.cut" || fail "cannot copy the image at the cut"
}

# recover kind: unmount; the disk is the image copied at the cut; a file system without a journal is checked as at
# boot (e2fsck -p, then -y if -p gives up); mount again.
recover() {
  unmnt
  [ -z "${POWER_CUT_KEEP:-}" ] || cp --sparse=always "$T/img.cut" "$T/img.atcut"
  mv -f "$T/img.cut" "$T/img" || fail "no image from the cut"
  if [ "$1" = ext4nj ]; then
    e2fsck -p "$T/img" > "$T/fsck" 2>&1
    [ $? -le 1 ] || e2fsck -fy "$T/img" >> "$T/fsck" 2>&1
    [ $? -le 1 ] || fail "e2fsck could not repair the file system: $(tail -3 "$T/fsck")"
  fi
  mnt || fail "cannot mount the file system again after the cut"
}

# delivered: token count lines ("count token") of what is in the Maildir;
# a message without its own body line is reported as "truncated file".
delivered() {
  find "$I/home/Maildir/new" "$I/home/Maildir/cur" -type f -name '[0-9]*' -exec awk '
    FNR == 1 { if (f != "" && !b) print "truncated", f; f = FILENAME; b = 0; t = "" }
    /^X-Token: / { t = $2 }
    /^body of / { if ($3 == t) { b = 1; print t } }
    END { if (f != "" && !b) print "truncated", f }' {} + | sort | uniq -c
}

# settled: nothing left of any message in the queue (pid/ files wait out
# their minute of grace, queue/sweep.h).
settled() {
  [ -z "$(find "$I/queue/mess" "$I/queue/todo" "$I/queue/intd" "$I/queue/info" "$I/queue/local" \
         "$I/queue/remote" "$I/queue/bounce" -type f 2>/dev/null | head -n 1)" ]
}
kick() {
  kill -ALRM "$(pgrep -s "$ipid" -x qmail-send | head -1)" 2>/dev/null
  timeout 1 sh -c "printf I > '$I/queue/lock/trigger'" 2>/dev/null
  return 0
}
settle_kicking() {
  _n=0
  while ! settled; do
    _n=$((_n + 1))
    [ $_n -lt 600 ] || return 1
    [ $((_n % 10)) = 0 ] && kick
    sleep 0.1
  done
}

# keep: with POWER_CUT_KEEP set, a failed cycle's log, acknowledgements and
# instance are copied there, with the image as it was at the cut (img.atcut).
keep() {
  [ -n "${POWER_CUT_KEEP:-}" ] || return 0
  mkdir -p "$POWER_CUT_KEEP" && cp -a "$T"/log "$T"/acked* "$T"/got "$T"/fsck "$I" "$POWER_CUT_KEEP"/ 2>/dev/null
  cp --sparse=always "$T/img" "$POWER_CUT_KEEP/img" 2>/dev/null
  cp --sparse=always "$T/img.atcut" "$POWER_CUT_KEEP/img.atcut" 2>/dev/null
  return 0
}

# check tag: after recovery, every token acknowledged in cycle tag is
# delivered whole; sets lost (acknowledged, not delivered), dups and acks.
check() {
  delivered > "$T/got"
  grep -q ' truncated ' "$T/got" && fail "$1: a truncated message was delivered: $(grep ' truncated ' "$T/got" | head -3)"
  cat "$T"/acked."$1".* 2>/dev/null | sort > "$T/acked"
  acks=$(wc -l < "$T/acked")
  awk '{ print $2 }' "$T/got" | sort > "$T/gotlist"
  lost=$(comm -23 "$T/acked" "$T/gotlist" | wc -l)
  dups=$(awk -v p="^$1-" '$2 ~ p && $1 > 1 { d += $1 - 1 } END { print d + 0 }' "$T/got")
}

# The control: ext4 with a journal, fsync and fdatasync made no-ops in
# qmail-queue, no instance running (so nothing else commits the journal).
printf '#include <unistd.h>\nextern "C" int fsync(int) { return 0; }\nextern "C" int fdatasync(int) { return 0; }\n' > "$T/nofsync.cc"
g++ -shared -fPIC -o "$T/nofsync.so" "$T/nofsync.cc" || fail "cannot build the fsync shim"
chmod 755 "$T/nofsync.so"
mkloop ext4j && mnt || skip "cannot make and mount an ext4 file system on a loop device"
new_instance "$I"
sync -f "$I/control/me"
CL_ENV="LD_PRELOAD=$T/nofsync.so QMAILQUEUE=$BIN/qmail-queue" clients control
sleep 1
cut
clients_stop
recover ext4j
inst_start
CL_ENV=
settle_kicking || fail "control: the queue did not drain: $(tail -5 "$T/log")"
check control
inst_stop
[ "$acks" -gt 0 ] || fail "control: no message was acknowledged"
[ "$lost" -gt 0 ] || fail "control: with fsync a no-op, the cut lost none of $acks acknowledged messages: this test cannot see a loss"
ok "control: with fsync a no-op the cut lost $lost of $acks acknowledged messages"
unmnt

total_acks=0 total_dups=0
for kind in $KINDS; do
  if [ "$kind" = xfs ] && ! { command -v mkfs.xfs >/dev/null && mkloop xfs && mnt; }; then
    echo "xfs: skipped (no mkfs.xfs or no xfs in this kernel)"
    continue
  fi
  if [ "$kind" != xfs ]; then mkloop "$kind" && mnt || fail "cannot make $kind"; fi
  new_instance "$I"
  # The set-up (control/, users/, the Maildir) is on disk long before any
  # power cut on a real host; here it is seconds old.
  sync -f "$I/control/me"
  acks_k=0 dups_k=0
  c=1
  while [ $c -le "$CYCLES" ]; do
    inst_start
    tag=$kind$c
    # Three kinds of cycle in turn: (1) the whole path through qmail-queued;
    # (2) qmail-queued with todo-proc stopped, so that every message
    # acknowledged is still only its todo/ link at the cut; (3) the same
    # through qmail-queue, the program (the clients exec it).
    CL_ENV=
    case $((c % 3)) in
      2) kill -STOP "$(pgrep -s "$ipid" -x todo-proc)" ;;
      0) kill -STOP "$(pgrep -s "$ipid" -x todo-proc)"; CL_ENV="QMAILQUEUE=$BIN/qmail-queue" ;;
    esac
    clients "$tag"
    # 0.5 to 2 s: the queue, todo-proc and the deliveries are all busy.
    sleep "$(awk -v s="$$$c" 'BEGIN { srand(s); printf "%.2f", 0.5 + rand() * 1.5 }')"
    cut
    clients_stop
    inst_kill
    CL_ENV=
    recover "$kind"
    inst_start
    settle_kicking || { keep; fail "$tag: the queue did not drain after the cut: $(find "$I/queue" -type f ! -path '*/lock/*' | head -5) $(tail -5 "$T/log")"; }
    check "$tag"
    [ "$lost" = 0 ] || { keep; fail "$tag: $lost of $acks acknowledged messages lost in the cut: $(comm -23 "$T/acked" "$T/gotlist" | head -5 | tr '\n' ' ')"; }
    inst_stop
    "$BIN/queue-fix" -N "$I/queue" > "$T/fixn" 2>&1 || fail "$tag: queue-fix -N after the cut: $(head -5 "$T/fixn")"
    # What was checked goes, so that a long run (POWER_CUT_CYCLES) does not
    # fill the file system with Maildir files (68,450 filled 400 MB at 103).
    find "$I/home/Maildir/new" "$I/home/Maildir/cur" -type f -delete
    sync -f "$I/home/Maildir/new"
    acks_k=$((acks_k + acks)) dups_k=$((dups_k + dups))
    c=$((c + 1))
  done
  ok "$kind: $CYCLES cuts (qmail-queued, the same with todo-proc stopped, qmail-queue), $acks_k acknowledged messages, none lost or truncated, $dups_k delivered twice"
  total_acks=$((total_acks + acks_k)) total_dups=$((total_dups + dups_k))
  unmnt
done
# qmail-clean removes at its start what e2fsck left of a message in flight:
# an envelope whose mess/N entry it cleared (queue/sweep.h).
orphans=$(grep -o 'removed [0-9]* envelope(s) in intd/' "$T/log" | awk '{ n += $2 } END { print n + 0 }')
ok "power cuts: $total_acks acknowledged messages, none lost; $orphans envelope(s) without their message removed at a start"
