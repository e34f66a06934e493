# bench/lib/common.sh: helpers shared by the benchmark harness (POSIX sh).
# Sourced by bench/run after TOP (the build tree) and S (the scratch dir) are set.

say() { echo "bench: $*" >&2; }
die() { echo "bench: fatal: $*" >&2; exit 111; }

# nonblank text: true if text has a character other than blanks.
nonblank() { case $1 in *[![:space:]]*) return 0 ;; esac; return 1; }

# now: wall-clock seconds with nanoseconds (GNU date), the clock every
# timestamp in a measurement is taken with.
now() { date +%s.%N; }

# elapsed t0 t1: t1 - t0 in seconds, 3 decimals.
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }

# rate count seconds: messages per second, 1 decimal.
rate() { awk -v n="$1" -v t="$2" 'BEGIN { if (t > 0) printf "%.1f", n / t; else print "inf" }'; }

# median < numbers: the median (lower middle for an even count); "-" if none.
median() {
  sort -g | awk '{ a[NR] = $1 } END { if (NR == 0) print "-"; else print a[int((NR + 1) / 2)] }'
}

# ratio a b: a / b, 2 decimals; "-" unless both are numbers and b > 0.
ratio() {
  awk -v a="$1" -v b="$2" 'BEGIN {
    if (a !~ /^[0-9.]+$/ || b !~ /^[0-9.]+$/ || b + 0 == 0) print "-"; else printf "%.2f", a / b }'
}

# sleep_until_or_timeout seconds command...: polls command every 50 ms.
wait_for() {
  _n=$(awk -v s="$1" 'BEGIN { printf "%d", s * 20 }'); shift
  while [ "$_n" -gt 0 ]; do
    "$@" && return 0
    sleep 0.05; _n=$((_n - 1))
  done
  return 1
}

# free_port: a TCP port on 127.0.0.1 nobody listens on (20000-39999). Ports
# handed out earlier in this run are not handed out again.
BENCH_PORTS_USED=
free_port() {
  _try=0
  while [ $_try -lt 200 ]; do
    _p=$(( $(od -An -N2 -tu2 /dev/urandom) % 20000 + 20000 ))
    _try=$((_try + 1))
    case " $BENCH_PORTS_USED " in *" $_p "*) continue ;; esac
    if [ -z "$(ss -Htln "sport = :$_p" 2>/dev/null)" ]; then
      BENCH_PORTS_USED="$BENCH_PORTS_USED $_p"
      echo "$_p"; return 0
    fi
  done
  die "no free TCP port found"
}

# port_listening port: true when something listens on 127.0.0.1:port.
port_listening() { [ -n "$(ss -Htln "sport = :$1" 2>/dev/null)" ]; }

# procs_under dir: pids of processes whose working directory is dir or below
# it. Postfix's daemons chdir to their queue directory and qfleet's to theirs,
# so this finds every process of one instance, whatever it is called.
procs_under() {
  for _d in /proc/[0-9]*; do
    _c=$(readlink "$_d/cwd" 2>/dev/null) || continue
    case $_c in "$1"|"$1"/*) echo "${_d#/proc/}" ;; esac
  done
}

# reap_under dir seconds: waits up to seconds for every process under dir to
# exit, then kills the rest (TERM, then KILL) by pid. Returns 1 if it had to kill.
reap_under() {
  wait_for "$2" sh -c '[ -z "$(for d in /proc/[0-9]*; do c=$(readlink $d/cwd 2>/dev/null) || continue; case $c in "$0"|"$0"/*) echo x;; esac; done)" ]' "$1" && return 0
  _left=$(procs_under "$1")
  [ -n "$_left" ] || return 0
  say "killing leftover processes under $1: $_left"
  kill -TERM $_left 2>/dev/null
  sleep 1
  _left=$(procs_under "$1")
  [ -n "$_left" ] && kill -KILL $_left 2>/dev/null
  return 1
}

# procs_mentioning text: pids (other than this shell's) whose command line or
# environment contains text: with text the unique scratch dir, every process
# this run started, whatever it is called and wherever its cwd is.
procs_mentioning() {
  for _d in /proc/[0-9]*; do
    _p=${_d#/proc/}
    [ "$_p" = $$ ] && continue
    if { tr '\0' '\n' < "$_d/cmdline"; } 2>/dev/null | grep -qF "$1" ||
       { tr '\0' '\n' < "$_d/environ"; } 2>/dev/null | grep -qF "$1"; then
      echo "$_p"
    fi
  done
}

# maildir_count dir: number of files in dir/new and dir/cur.
maildir_count() {
  find "$1/new" "$1/cur" -type f 2>/dev/null | wc -l | tr -d ' '
}

# maildir_reset dir owner: an empty Maildir owned by owner (old one removed).
maildir_reset() {
  rm -rf "$1"
  mkdir -p "$1/new" "$1/cur" "$1/tmp"
  chown -R "$2" "$1"
  chmod -R 700 "$1"
}

# tool name: path of a compiled bench/tools program (built on first use with conf-cc).
tool() {
  _src=$TOP/bench/tools/$1.cc _bin=$TOP/obj/bench/$1
  if [ ! -x "$_bin" ] || [ "$_src" -nt "$_bin" ]; then
    mkdir -p "$TOP/obj/bench"
    $(head -n 1 "$TOP/conf-cc") -o "$_bin" "$_src" || die "unable to build $_bin"
  fi
  # Run as other users too: beside the copied programs when the tree is closed.
  if [ "${QF_COPIED:-0}" = 1 ]; then
    if [ ! -x "$S/tools/$1" ]; then
      mkdir -p "$S/tools" && cp "$_bin" "$S/tools/$1" && chmod -R a+rX "$S/tools" || die "unable to copy $_bin"
    fi
    _bin=$S/tools/$1
  fi
  echo "$_bin"
}

# make_message file bytes rcpt: a message of exactly bytes bytes (headers and
# a printable body) for rcpt.
make_message() {
  {
    printf 'From: qfbench sender <%s>\n' "$BENCH_SENDER"
    printf 'To: %s\n' "$3"
    printf 'Subject: qfleet bench message\n'
    printf '\n'
  } > "$1"
  _h=$(wc -c < "$1")
  head -c $(( ($2 - _h) * 2 )) /dev/urandom | od -An -tx1 -v | tr -d ' \n' | fold -w 76 | head -c $(( $2 - _h - 1 )) >> "$1"
  echo >> "$1"
}

# sink_start name port maxmsgs [extra smtp-sink args]: an smtp-sink on
# 127.0.0.1:port that exits after maxmsgs messages (0: never), its counters
# in $S/sink.name.out. Sets SINK_PID.
sink_start() {
  _name=$1 _port=$2 _max=$3; shift 3
  _m=
  [ "$_max" -gt 0 ] && _m="-M $_max"
  smtp-sink -c -u nobody $_m "$@" "127.0.0.1:$_port" 256 > "$S/sink.$_name.out" 2>&1 9>&- &
  SINK_PID=$!
  wait_for 10 port_listening "$_port" || die "smtp-sink did not start on port $_port"
  BENCH_PIDS="$BENCH_PIDS $SINK_PID"
}

# sink_stop pid: stops one smtp-sink if it still runs.
sink_stop() {
  kill -TERM "$1" 2>/dev/null
  wait "$1" 2>/dev/null
  BENCH_PIDS=$(echo "$BENCH_PIDS" | sed "s/ $1\b//")
  return 0
}

# running pid: true while pid exists and is not a zombie.
running() {
  _st=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -c1) || return 1
  [ -n "$_st" ] && [ "$_st" != Z ]
}

# wait_pid pid seconds: waits for a process to end (polling, 20 ms); 1 on timeout.
wait_pid() {
  _n=$(awk -v s="$2" 'BEGIN { printf "%d", s * 50 }')
  while running "$1"; do
    [ "$_n" -gt 0 ] || return 1
    sleep 0.02; _n=$((_n - 1))
  done
  return 0
}

# interruptible command...: runs command as a background child and waits for
# it. sh defers a trap until a foreground child ends, but wait returns at once,
# so Ctrl-C or TERM reach the cleanup without waiting for a long measurement.
# Its pid is in BENCH_PIDS meanwhile (cleanup kills it, with its children).
interruptible() {
  "$@" &
  _ip=$!
  BENCH_PIDS="$BENCH_PIDS $_ip"
  wait "$_ip"; _irc=$?
  BENCH_PIDS=$(echo "$BENCH_PIDS" | sed "s/ $_ip\b//")
  return $_irc
}

# descendants pid: pid and every process below it, children first.
descendants() {
  ps -e -o pid=,ppid= | awk -v root="$1" '
    { parent[$1] = $2 }
    END {
      for (p in parent) {
        q = p
        while (q in parent && q != root && q > 1) q = parent[q]
        if (q == root && p != root) print p
      }
      print root
    }'
}

# kill_tree pid: TERM to pid and all its descendants (by pid).
kill_tree() {
  _pids=$(descendants "$1")
  [ -n "$_pids" ] && kill -TERM $_pids 2>/dev/null
  return 0
}

# skip_note scenario system reason: a line for the report.
skip_note() {
  say "($1) $2: skipped: $3"
  echo "- ($1) $2 skipped: $3" >> "$S/notes"
}

# note text: a line for the report's notes.
note() { echo "- $*" >> "$S/notes"; }
