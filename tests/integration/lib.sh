# Sourced by every integration test: scratch space, assertions, helpers.
# A test exits 0 to pass, 77 to skip (last line says why), anything else fails.
# tests/run runs each under obj/tests/helpers/reaper, which removes whatever a
# test leaves behind and fails it for that; the test cleans up itself first.
set -u
TOP=$(cd "$(dirname "$0")/../.." && pwd)
BIN=$TOP/bin
HELPERS=$TOP/obj/tests/helpers
T=$(mktemp -d /tmp/qfit.XXXXXX)
chmod 755 "$T"
# The reaper (tests/run) removes mounts left under $T.
[ -n "${QFIT_REAPER_NOTE:-}" ] && echo "$T" >> "$QFIT_REAPER_NOTE"
# As root: the qmail users exist (tests/run made them; a test run by hand
# makes them here), and the programs are where every uid can run them (a
# checkout under a mode-700 home is not: tests/run's copy, or one of ours).
if [ "$(id -u)" = 0 ]; then
  if [ -n "${QFLEET_TEST_TREE:-}" ]; then
    BIN=$QFLEET_TEST_TREE/bin HELPERS=$QFLEET_TEST_TREE/obj/tests/helpers
  elif ! setpriv --reuid=65534 --regid=65534 --clear-groups test -x "$BIN/qmail-send" 2>/dev/null; then
    mkdir -p "$T/tree/obj/tests"
    cp -a "$BIN" "$T/tree/bin" && cp -a "$HELPERS" "$T/tree/obj/tests/helpers" && chmod -R a+rX "$T/tree" ||
      { echo "FAIL: unable to copy the programs to $T/tree" >&2; exit 1; }
    BIN=$T/tree/bin HELPERS=$T/tree/obj/tests/helpers
  fi
  getent passwd "$(sed -n 6p "$TOP/conf-users")" >/dev/null || "$TOP/package/users" ||
    { echo "FAIL: package/users" >&2; exit 1; }
fi
# on_exit command [args...]: run at exit, last registered first. The words
# are fixed now (give a hook its pids and paths as arguments, not globals).
cleanup_hooks=
on_exit() {
  _h=
  for _w in "$@"; do _h="$_h '$(printf '%s' "$_w" | sed "s/'/'\\\\''/g")'"; done
  cleanup_hooks="$_h
$cleanup_hooks"
}
cleanup() {
  _rc=$?
  trap - EXIT INT TERM
  while IFS= read -r _h; do
    [ -n "$_h" ] && eval "$_h"
  done <<EOT
$cleanup_hooks
EOT
  if [ -n "${QFIT_KEEP:-}" ]; then echo "kept $T (QFIT_KEEP)" >&2; else rm -rf "$T"; fi
  exit $_rc
}
trap cleanup EXIT
trap 'exit 1' INT TERM
# stop_pid pid: TERM, up to 20 s to exit, then KILL (a hook for on_exit).
stop_pid() {
  kill -TERM "$1" 2>/dev/null || return 0
  _n=200
  while [ $_n -gt 0 ] && kill -0 "$1" 2>/dev/null; do sleep 0.1; _n=$((_n - 1)); done
  kill -KILL "$1" 2>/dev/null
  return 0
}
# stop_pidfile file: stop_pid on the pid in file, if the file is still there.
stop_pidfile() { [ -f "$1" ] && stop_pid "$(cat "$1")"; return 0; }

fail() { echo "FAIL: $*" >&2; exit 1; }
skip() { echo "$*"; exit 77; }
ok() { echo "ok: $*"; }
need_root() { [ "$(id -u)" = 0 ] || skip "needs root: $*"; }
# loopfs kind dir: a new file system of kind (ext4j, ext4nj, xfs) in
# $T/kind.img, mounted at dir, unmounted at exit (after the instances on it
# have stopped). Needs root.
loopfs() {
  _img=$T/$1.img
  truncate -s 320M "$_img" || return 1
  case $1 in
    ext4j) mkfs.ext4 -q -F "$_img" ;;
    ext4nj) mkfs.ext4 -q -F -O ^has_journal "$_img" ;;
    xfs) mkfs.xfs -q -f "$_img" ;;
  esac >/dev/null 2>&1 || return 1
  mkdir -p "$2" && mount -o loop "$_img" "$2" || return 1
  on_exit umount -l "$2"
}
is_root() { [ "$(id -u)" = 0 ]; }

# expect_eq what got want
expect_eq() { [ "$2" = "$3" ] || fail "$1: got '$2', want '$3'"; }

# free_port: a TCP port of 20000-59999 that nothing listens on now.
free_port() {
  while :; do
    _fp=$(( 20000 + $(od -An -N2 -tu2 /dev/urandom) % 40000 ))
    ss -Htln "sport = :$_fp" 2>/dev/null | grep -q . || { echo "$_fp"; return; }
  done
}

# mkqueue dir [queue-fix args]: a fresh queue.
mkqueue() { d=$1; shift; "$BIN/queue-fix" -q "$@" "$d" || fail "queue-fix $d"; }

# envelope sender rcpt...: writes qmail-queue's envelope to stdout.
envelope() {
  printf 'F%s\0' "$1"; shift
  for r in "$@"; do printf 'T%s\0' "$r"; done
  printf '\0'
}

# queue_snapshot dir: names, types, modes, sizes and checksums of everything.
queue_snapshot() {
  (cd "$1" && find . -printf '%p %y %m %s\n' | sort
   find . -type f -exec md5sum {} + | sort -k 2)
}

# wait_for seconds command...: polls until command succeeds.
wait_for() {
  _wf_n=$(( $1 * 20 )); shift
  while [ $_wf_n -gt 0 ]; do
    "$@" && return 0
    sleep 0.05; _wf_n=$((_wf_n - 1))
  done
  return 1
}

# --- a running qfleet instance (embedded: everything as the caller) ---------
# new_instance dir: QMAILHOME=dir with control/me = test.example, locals, a
# home dir/home for the user "u" (users/assign maps every local address to it,
# the user name "u" and "u-EXT" through .qmail files) and a queue.
new_instance() {
  local I=$1
  mkdir -p "$I/control" "$I/users" "$I/home/Maildir/new" "$I/home/Maildir/cur" "$I/home/Maildir/tmp"
  chmod 755 "$I" "$I/home"
  echo test.example > "$I/control/me"
  printf 'test.example\nlocalhost\n' > "$I/control/locals"
  printf '=u:%s:%s:%s:%s:::\n+u-:%s:%s:%s:%s:-::\n.\n' \
    "$(id -un)" "$(id -u)" "$(id -g)" "$I/home" "$(id -un)" "$(id -u)" "$(id -g)" "$I/home" > "$I/users/assign"
  "$BIN/queue-fix" -q "$I/queue" || fail "queue-fix $I/queue"
}
# start_instance dir: qmail-start in its own session, log in dir/log.
start_instance() {
  local I=$1
  QFLEET_EMBEDDED=1 QMAILHOME=$I QUEUEDIR=$I/queue setsid "$BIN/qmail-start" ./Maildir/ > "$I/log" 2>&1 &
  echo $! > "$I/pid"
  on_exit stop_pidfile "$I/pid"
  wait_for 10 grep -qs '^status: local' "$I/log" ||
    fail "qmail-send did not start ($(kill -0 "$(cat "$I/pid")" 2>/dev/null && echo "still running: $(ps -o pid=,stat=,wchan:30=,comm= --ppid "$(cat "$I/pid")" | tr '\n' ';')" || echo "it exited")): $(cat "$I/log")"
}
stop_instance() {
  local I=$1
  kill -TERM "$(cat "$I/pid")" 2>/dev/null
  wait_for 30 sh -c "! kill -0 $(cat "$I/pid") 2>/dev/null" || fail "qmail-send did not stop"
  rm -f "$I/pid"
}
# inject dir sender rcpt... < message: through qmail-queue into dir's queue.
inject() {
  local I=$1; s=$2; shift 2
  e=$(mktemp "$I/.env.XXXXXX")   # not $$: parallel subshells share it
  envelope "$s" "$@" > "$e"
  QUEUEDIR=$I/queue "$BIN/qmail-queue" 1< "$e"
  rc=$?; rm -f "$e"; return $rc
}
# maildir_count maildir: messages in new/ and cur/.
maildir_count() { ls "$1/new" "$1/cur" 2>/dev/null | grep -c '^[0-9]'; }
# queue_empty dir: nothing left in the queue's message directories.
queue_empty() { [ -z "$(find "$1/queue/mess" "$1/queue/todo" "$1/queue/info" -type f 2>/dev/null | head -n 1)" ]; }
# wait_count seconds maildir n: polls until the Maildir holds exactly n messages.
wait_count() {
  _n=$(( $1 * 10 ))
  while [ $_n -gt 0 ]; do
    [ "$(maildir_count "$2")" = "$3" ] && return 0
    sleep 0.1; _n=$((_n - 1))
  done
  return 1
}

# --- a multi-queue instance under qscheduler --------------------------------
# start_qscheduler dir mode...: qscheduler (embedded) over dir/base, log dir/log.
start_qscheduler() {
  local I=$1; shift
  QFLEET_EMBEDDED=1 QMAILHOME=$I QUEUE_BASE=$I/base setsid "$BIN/qscheduler" "$@" ./Maildir/ > "$I/log" 2>&1 &
  echo $! > "$I/qspid"
  on_exit stop_pidfile "$I/qspid"
}
stop_qscheduler() {
  local I=$1
  kill -TERM "$(cat "$I/qspid")" 2>/dev/null
  wait_for 30 sh -c "! kill -0 $(cat "$I/qspid") 2>/dev/null" || fail "qscheduler did not stop"
  rm -f "$I/qspid"
}
# active_queues dir: how many queues qscheduler -l shows active.
active_queues() { QMAILHOME=$1 QUEUE_BASE=$1/base "$BIN/qscheduler" -l 2>/dev/null | grep -c ' active '; }
# minject dir sender rcpt... < message: through qmail-queue into the queue set.
minject() {
  local I=$1; s=$2; shift 2
  e=$(mktemp "$I/.env.XXXXXX")
  envelope "$s" "$@" > "$e"
  QMAILHOME=$I QUEUE_BASE=$I/base QUEUE_COUNT=${QUEUE_COUNT:-1} "$BIN/qmail-queue" 1< "$e"
  rc=$?; rm -f "$e"; return $rc
}
# base_empty dir: no message left in any queue of the set.
base_empty() { [ -z "$(find "$1"/base/queue*/mess "$1"/base/queue*/todo "$1"/base/queue*/info -type f 2>/dev/null | head -n 1)" ]; }

# stop_daemontools svscan-pid service-dir...: svscan goes first (it would
# restart a supervise that exits), then each service is taken down and waited
# for, and only then its logger (so the service can log its last lines), and
# every supervise is told to exit; waits until they are gone.
stop_daemontools() {
  _sv=$1; shift
  kill "$_sv" 2>/dev/null
  wait "$_sv" 2>/dev/null
  for _s in "$@"; do
    touch "$_s/down" "$_s/log/down" 2>/dev/null
    svc -d "$_s" 2>/dev/null
  done
  for _s in "$@"; do
    if svok "$_s" 2>/dev/null; then
      wait_for 30 sh -c "svstat '$_s' 2>/dev/null | grep -q ': down '" ||
        echo "warning: $_s is not down after 30 s" >&2
    fi
    svc -dx "$_s" "$_s/log" 2>/dev/null
  done
  for _s in "$@"; do
    wait_for 20 sh -c "! svok '$_s' 2>/dev/null && ! svok '$_s/log' 2>/dev/null" ||
      echo "warning: supervise of $_s did not exit" >&2
  done
}
