# bench/lib/qfleet.sh: a qfleet instance from this build tree for the
# benchmarks (POSIX sh). Everything lives under one scratch directory DIR,
# which is the instance's QMAILHOME:
#
#   DIR/control   me, locals, rcpthosts, smtproutes, defaultdelivery
#   DIR/users/assign   qmail-users(5): the bench user's address -> DIR/home
#   DIR/queue     one queue, made by bin/queue-fix (QUEUEDIR)
#   DIR/home      the bench user's qfleet home: DIR/home/Maildir/
#   DIR/log       qmail-send's qmail-log(5) output (and the daemons' stderr)
#
# Privilege separation: run as root, qmail-start gives each daemon its own
# uid from conf-users (qmails, qmailq, qmailr, qmaill; qmail-lspawn as root,
# qmail-local as the bench user), as an installed qfleet does. DIR and its
# parents are mode 0755 so those users can reach the queue and the home.
# With BENCH_EMBEDDED=1 every daemon runs as root instead (QFLEET_EMBEDDED=1),
# and mail for the bench address is delivered as root (see qf_mail_owner).
#
# Injectors: an installed qmail-queue is setuid qmailq, but a setuid
# qmail-queue accepts no queue outside conf-qmail/queue, and this queue is in
# the scratch dir. So with privilege separation the clients that call
# qmail-queue (qmail-inject loops, qmail-smtpd) run as qmailq: the same
# owner for the queue files, the same work, no setuid bit. Embedded: as root.
#
# Concurrency: qfleet's defaults, as Postfix runs with its own: concurrencylocal
# 10, concurrencyremote 100 (Postfix's default_process_limit), 20 per
# destination (BENCH_QF_CONCURRENCYLOCAL / BENCH_QF_CONCURRENCYREMOTE write the
# control files).

QF_BIN=${BENCH_QF_BIN:-$TOP/bin}

# qf_missing prog...: the named programs missing from bin/ (empty if none).
qf_missing() {
  _m=
  for _p in "$@"; do [ -x "$QF_BIN/$_p" ] || _m="$_m bin/$_p"; done
  echo "${_m# }"
}

# The programs each use needs.
QF_CORE="queue-fix qmail-queue qmail-start qmail-send todo-proc qmail-clean qmail-rspawn"
QF_LOCAL="$QF_CORE qmail-lspawn"
QF_REMOTE="$QF_CORE qmail-remote"
QF_SMTPD="qmail-smtpd"

qf_version() { git -C "$TOP" describe --always --dirty 2>/dev/null || echo unknown; }

# qf_client_user: the user the qmail-queue clients run as (see above).
qf_client_user() {
  if [ "${BENCH_EMBEDDED:-0}" = 1 ]; then echo root; else sed -n 6p "$TOP/conf-users"; fi
}
qf_smtpd_user() { qf_client_user; }

# qf_mail_owner: the user the bench address is delivered as. Embedded,
# qmail-lspawn delivers only to its own uid (root), so the bench address maps
# to root and a root-owned home; otherwise to the bench user.
qf_mail_owner() {
  if [ "${BENCH_EMBEDDED:-0}" = 1 ]; then echo root; else echo "$BENCH_USER"; fi
}

# QF_QUEUES: 0 for one queue DIR/queue run by qmail-start (QUEUEDIR); n > 0
# for the numbered queues DIR/queues/queue1..n run by qscheduler -s
# (QUEUE_BASE, QUEUE_COUNT; qmail-queue picks one at random per message).
QF_QUEUES=0

# qf_env DIR: the environment every qfleet program of the instance gets.
qf_env() {
  if [ "$QF_QUEUES" -gt 0 ]; then
    echo "QMAILHOME=$1 QUEUE_BASE=$1/queues QUEUE_COUNT=$QF_QUEUES"
  else
    echo "QMAILHOME=$1 QUEUEDIR=$1/queue"
  fi
  [ "${BENCH_EMBEDDED:-0}" = 1 ] && echo " QFLEET_EMBEDDED=1"
  # BENCH_QF_QUEUED=0: every client execs qmail-queue (QMAILQUEUE wins over
  # qmail-queued's socket), to measure what qmail-queued buys.
  [ "${BENCH_QF_QUEUED:-1}" = 0 ] && echo " QMAILQUEUE=$QF_BIN/qmail-queue"
  return 0
}
# qf_queue_path: how a qfleet client's message reaches the queue (report text).
qf_queue_path() {
  if [ "${BENCH_QF_QUEUED:-1}" = 0 ]; then echo "qmail-queue (exec per message, BENCH_QF_QUEUED=0)"
  else echo "qmail-queued (inject.sock; qmail-queue when it is down)"; fi
}

# qf_create DIR: control files, users/assign, the home and the queue
# (uses BENCH_USER, BENCH_DOMAIN, BENCH_SINK_DOMAIN, SINK_PORT).
qf_create() {
  _d=$1
  _owner=$(qf_mail_owner)
  _uid=$(id -u "$_owner") _gid=$(id -g "$_owner")
  mkdir -p "$_d"; topdir "$_d"
  mkdir -p "$_d/control" "$_d/users" "$_d/home"
  chmod 755 "$_d" "$_d/control" "$_d/users" "$_d/home"
  echo "mx.$BENCH_DOMAIN" > "$_d/control/me"
  echo "$BENCH_DOMAIN" > "$_d/control/locals"
  printf '%s\n%s\n' "$BENCH_DOMAIN" "$BENCH_SINK_DOMAIN" > "$_d/control/rcpthosts"
  [ -n "${BENCH_QF_CONCURRENCYLOCAL:-}" ] && echo "$BENCH_QF_CONCURRENCYLOCAL" > "$_d/control/concurrencylocal"
  [ -n "${BENCH_QF_CONCURRENCYREMOTE:-}" ] && echo "$BENCH_QF_CONCURRENCYREMOTE" > "$_d/control/concurrencyremote"
  [ -n "${BENCH_QF_QUEUEDWORKERS:-}" ] && echo "$BENCH_QF_QUEUEDWORKERS" > "$_d/control/queuedworkers"
  echo "$BENCH_SINK_DOMAIN:127.0.0.1:$SINK_PORT" > "$_d/control/smtproutes"
  echo ./Maildir/ > "$_d/control/defaultdelivery"
  printf '=%s:%s:%s:%s:%s:::\n.\n' "$BENCH_USER" "$_owner" "$_uid" "$_gid" "$_d/home" > "$_d/users/assign"
  chmod 644 "$_d/control/"* "$_d/users/assign"
  chown "$_owner:" "$_d/home"
  maildir_reset "$_d/home/Maildir" "$_owner:"
  if [ "$QF_QUEUES" -gt 0 ]; then
    # with QUEUE_BASE and QUEUE_COUNT set and no queuedir, queue-fix makes them all
    mkdir -p "$_d/queues"; chmod 755 "$_d/queues"
    set -- $(qf_env "$_d")
    env "$@" "$QF_BIN/queue-fix" -q > "$_d/queue-fix.log" 2>&1
  else
    # BENCH_QF_TOPDIR=0: queue-fix finds mess/ already there and leaves the
    # root without +T, so the queue's directories share one block group.
    [ "${BENCH_QF_TOPDIR:-1}" = 0 ] && mkdir -p "$_d/queue/mess"
    env $(qf_env "$_d") "$QF_BIN/queue-fix" -q "$_d/queue" > "$_d/queue-fix.log" 2>&1
  fi || { cat "$_d/queue-fix.log" >&2; die "bin/queue-fix in $_d failed"; }
  : > "$_d/log"
}

# qf_start DIR: starts qmail-start (or, with QF_QUEUES > 0, qscheduler -s)
# in its own session in the background and waits for the first "status:"
# line of each qmail-send. Sets QF_PID (qmail-send's pid, since qmail-start
# execs it, or qscheduler's; the session id of every daemon either way).
qf_start() {
  _d=$1
  _before=$(grep -c '^status:' "$_d/log" 2>/dev/null || true)
  _starter="$QF_BIN/qmail-start"
  if [ "$QF_QUEUES" -gt 0 ]; then
    _starter="$QF_BIN/qscheduler -s"
    _before=$((_before + QF_QUEUES - 1))
  fi
  $(cg_exec) env $(qf_env "$_d") setsid $_starter ./Maildir/ >> "$_d/log" 2>&1 9>&- &
  QF_PID=$!
  BENCH_PIDS="$BENCH_PIDS $QF_PID"
  if ! wait_for 20 qf_ready "$_d" "$_before"; then
    tail -n 20 "$_d/log" >&2
    die "qfleet in $_d did not start (log: $_d/log)"
  fi
}

# qf_ready DIR status-lines-before: every qmail-send has logged its first
# status line and, under qscheduler, every queue is active in its listing
# (qmail-queue picks only active queues; a queue still "starting" after its
# qmail-send is up would get no mail at the start of a measurement).
qf_ready() {
  running "$QF_PID" || return 1
  [ "$(grep -c '^status:' "$1/log" 2>/dev/null || true)" -gt "$2" ] || return 1
  [ "$QF_QUEUES" -gt 0 ] || return 0
  [ "$(env $(qf_env "$1") "$QF_BIN/qscheduler" -l 2>/dev/null | awk '$1 ~ /^[0-9]+$/ && $2 == "active"' | wc -l)" -ge "$QF_QUEUES" ]
}

# qf_procs: pids of the running instance (qmail-send's session).
qf_procs() {
  [ -n "${QF_PID:-}" ] || return 0
  ps -e -o pid=,sid= | awk -v s="$QF_PID" '$2 == s { print $1 }'
}

# qf_stop DIR: TERM to qmail-send (it finishes in-flight deliveries and
# exits 0; the other daemons leave when their pipes close) or to qscheduler
# (it forwards TERM to every queue), then waits for the whole session to be
# gone. Kills what is left after 30 s (by pid).
qf_stop() {
  [ -n "${QF_PID:-}" ] || return 0
  kill -TERM "$QF_PID" 2>/dev/null
  if ! wait_for 30 sh -c '[ -z "$(ps -e -o sid= | awk -v s=$0 "\$1 == s")" ]' "$QF_PID"; then
    _left=$(qf_procs)
    say "qfleet did not stop in 30 s; killing $_left"
    echo "qfleet did not stop within 30 s after TERM" >> "$S/problems"
    [ -n "$_left" ] && kill -KILL $_left 2>/dev/null
  fi
  wait "$QF_PID" 2>/dev/null
  BENCH_PIDS=$(echo "$BENCH_PIDS" | sed "s/ $QF_PID\b//")
  QF_PID=
  return 0
}

qf_destroy() {
  [ -d "$1" ] || return 0
  qf_stop "$1"
  retire "$1"
}

qf_maildir() { echo "$1/home/Maildir"; }

# qf_delivered DIR: successful deliveries in the log.
qf_delivered() { grep -c '^delivery [0-9]*[^:]*: success' "$1/log" 2>/dev/null || true; }

# qf_queue_empty DIR: true when no message is left in the queue.
qf_queue_empty() {
  if [ "$QF_QUEUES" -gt 0 ]; then
    [ -z "$(find "$1"/queues/queue*/mess -type f 2>/dev/null | head -n 1)" ]
  else
    [ -z "$(find "$1/queue/mess" -type f 2>/dev/null | head -n 1)" ]
  fi
}
