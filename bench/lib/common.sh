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

# retire DIR: moves DIR out of the way under $S/retired, removed with the
# scratch directory at exit. Removing it now would leave thousands of freshly
# freed inodes where the next round's files go: ext4 without a journal skips
# every inode freed in the last 30 s or so before it reuses one
# (recently_deleted() in fs/ext4/ialloc.c), so the next round, of either
# system, would pay for this one's cleanup in every file it creates.
retire() {
  [ -e "$1" ] || return 0
  mkdir -p "$S/retired"
  _rt=1
  while [ -e "$S/retired/$_rt" ]; do _rt=$((_rt + 1)); done
  mv "$1" "$S/retired/$_rt"
}

# topdir DIR: ext4's allocator spreads DIR's subdirectories over block
# groups as it does top-level directories (chattr +T), so an instance's home,
# queue and configuration lie apart as /home and /var/spool do on an
# installed machine. Nothing on file systems without the flag.
topdir() { chattr +T "$1" 2>/dev/null || true; }

# journal_less DIR: DIR is on ext2/3/4 without a journal (the mount's
# options name no data=), where queue-fix gives every qfleet queue directory
# synchronous updates (queue-fix(8), LAYOUT).
journal_less() {
  _jl_src=$(findmnt -no SOURCE --target "$1" 2>/dev/null)
  case $(findmnt -no FSTYPE --target "$1" 2>/dev/null) in ext2|ext3|ext4) ;; *) return 1 ;; esac
  _jl_opts=/proc/fs/ext4/${_jl_src##*/}/options
  [ -r "$_jl_opts" ] && ! grep -q '^data=' "$_jl_opts"
}

# maildir_reset dir owner: an empty Maildir owned by owner (old one retired).
maildir_reset() {
  retire "$1"
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

# --- CPU per message, per process name (bench/tools/cpu-acct) ---------------
#
# Each measured round runs its system in a cgroup of its own (CPU_CG, under
# CPU_CG_BASE): cpu_prepare makes it before the system starts, the system's
# start commands enter it through cg_exec (their children inherit it), and
# cpu_begin starts cpu-acct just before the clock starts. cpu_end, after the
# untimed drain and before the system stops, writes $S/cpu/SC.LABEL.ROUND:
# per process name the CPU used from the start of injection to the end of
# the drain, exited workers included (taskstats exit records), and the
# cgroup's own total. The load generators (smtp-source, smtp-sink, the
# bench's own tools) are not in the cgroup; the CLI injectors of (a) are.

CPU_CG_BASE= CPU_CG= CPU_PID= CPU_OUT= CPU_HOW=

# cpu_init: picks a writable cgroup hierarchy (v1 cpuacct, else v2) and makes
# CPU_CG_BASE there; without one, no CPU tables (CPU_HOW says why).
cpu_init() {
  mkdir -p "$S/io" "$S/kt"
  for _h in /sys/fs/cgroup/cpuacct /sys/fs/cgroup/unified /sys/fs/cgroup; do
    [ -f "$_h/cgroup.procs" ] || continue
    [ -f "$_h/cpuacct.usage" ] || [ -f "$_h/cpu.stat" ] || continue
    if mkdir "$_h/qfbench.$$" 2>/dev/null; then
      CPU_CG_BASE=$_h/qfbench.$$
      case $_h in */cpuacct) CPU_HOW="cgroup v1 cpuacct" ;; *) CPU_HOW="cgroup v2 cpu.stat" ;; esac
      mkdir -p "$S/cpu"
      tool cpu-acct > /dev/null  # built now, not inside a measurement
      return 0
    fi
  done
  CPU_HOW="no writable cgroup hierarchy: no CPU tables"
  return 0
}

# cg_exec: the prefix that runs a command in the round's cgroup (or as is).
cg_exec() { echo "$TOP/bench/lib/cg-exec ${CPU_CG:--}"; }

# cpu_prepare scenario label round: a fresh cgroup for the round's system.
cpu_prepare() {
  CPU_CG= CPU_OUT=
  IO_OUT=$S/io/$1.$2.$3
  [ -n "$CPU_CG_BASE" ] || return 0
  CPU_CG=$CPU_CG_BASE/$1.$2.$3
  mkdir "$CPU_CG" 2>/dev/null || { CPU_CG=; return 0; }
  CPU_OUT=$S/cpu/$1.$2.$3
}

# cpu_begin: starts cpu-acct on the round's cgroup; returns when it listens.
cpu_begin() {
  io_snap > "$IO_OUT.begin"
  kt_snap > "$IO_OUT.kt.begin"
  [ -n "$CPU_CG" ] || return 0
  "$(tool cpu-acct)" "$CPU_CG" > "$CPU_OUT.raw" 2> "$CPU_OUT.err" &
  CPU_PID=$!
  BENCH_PIDS="$BENCH_PIDS $CPU_PID"
  wait_for 10 grep -qs "^ready" "$CPU_OUT.raw" || { say "cpu-acct did not start: $(head -c 200 "$CPU_OUT.err")"; cpu_end; }
}

# cpu_end: stops cpu-acct (it prints its figures) and leaves the cgroup to
# the system's remaining processes; later commands run outside it.
cpu_end() {
  if [ -n "$IO_OUT" ] && [ -s "$IO_OUT.begin" ]; then
    io_snap | paste -d' ' "$IO_OUT.begin" - > "$IO_OUT"
    kt_snap | kt_delta "$IO_OUT.kt.begin" > "$S/kt/${IO_OUT##*/}"
    rm -f "$IO_OUT.begin" "$IO_OUT.kt.begin"
  fi
  IO_OUT=
  [ -n "$CPU_PID" ] || { CPU_CG=; return 0; }
  kill -TERM "$CPU_PID" 2>/dev/null
  wait "$CPU_PID" 2>/dev/null
  BENCH_PIDS=$(echo "$BENCH_PIDS" | sed "s/ $CPU_PID\b//")
  grep -v '^ready' "$CPU_OUT.raw" > "$CPU_OUT" 2>/dev/null
  CPU_PID= CPU_CG=
}

# cpu_cleanup: removes every round's cgroup (moving any process still in one
# to the hierarchy's root first) and the base.
cpu_cleanup() {
  [ -n "$CPU_CG_BASE" ] && [ -d "$CPU_CG_BASE" ] || return 0
  _root=${CPU_CG_BASE%/*}
  for _c in "$CPU_CG_BASE"/*/; do
    [ -d "$_c" ] || continue
    for _p in $(cat "$_c/cgroup.procs" 2>/dev/null); do echo "$_p" > "$_root/cgroup.procs" 2>/dev/null; done
    rmdir "$_c" 2>/dev/null
  done
  rmdir "$CPU_CG_BASE" 2>/dev/null
}

# --- the disk and the whole machine per message ------------------------------
#
# From cpu_begin to cpu_end each round also reads the block device under the
# scratch directory (/sys/class/block/DEV/stat: the loop device of --fs ext4j
# or xfs, the root disk otherwise) and the machine's CPU (/proc/stat): what
# the file system sent to the device (write requests after merging, KB,
# cache flushes) and the CPU of everything on the machine, kernel threads
# (jbd2, the loop and block workers, softirqs) and the load generators
# included, which the cgroup does not see. io_snap prints one line:
# writes sectors flushes busy-ticks ticks-per-second.

IO_OUT= IO_DEV=

# io_dev: the name under /sys/class/block of the scratch directory's device.
io_dev() {
  if [ -n "$FS_DEV" ]; then echo "${FS_DEV##*/}"; return 0; fi
  _d=$(df -P "${S:-/var/tmp}" | awk 'NR == 2 { print $1 }')
  _d=$(readlink -f "$_d" 2>/dev/null || echo "$_d")
  echo "${_d##*/}"
}

io_snap() {
  [ -n "$IO_DEV" ] || IO_DEV=$(io_dev)
  _st=/sys/class/block/$IO_DEV/stat
  if [ -r "$_st" ]; then set -- $(cat "$_st"); _w=$5 _ws=$7 _fl=${16:-0}
  else _w=0 _ws=0 _fl=0; fi
  set -- $(sed -n 's/^cpu  *//p' /proc/stat)
  echo "$_w $_ws $_fl $(($1 + $2 + $3 + $6 + $7 + ${8:-0})) $(getconf CLK_TCK)"
}

# kt_snap: the CPU ticks of every kernel thread, "pid class ticks" a line
# (class: jbd2, xfs for xfsaild and xfs-*, loop, kworker, ksoftirqd, other;
# a kworker's name tells only its current work, so kworkers are one class),
# and a line "0 irq ticks" for the machine's irq and softirq time.
kt_snap() {
  awk 'function class(c) {
         if (c ~ /^jbd2\//) return "jbd2"
         if (c ~ /^xfs/) return "xfs"
         if (c ~ /^loop[0-9]/) return "loop"
         if (c ~ /^kworker\//) return "kworker"
         if (c ~ /^ksoftirqd\//) return "ksoftirqd"
         return "other"
       }
       FNR == 1 {
         o = index($0, "("); c = 0
         for (i = length($0); i > o; i--) if (substr($0, i, 1) == ")") { c = i; break }
         if (!o || !c) next
         n = split(substr($0, c + 2), f, " ")
         # f[7] is flags: PF_KTHREAD (0x00200000); f[12], f[13] utime, stime
         if (n < 13 || int(f[7] / 2097152) % 2 != 1) next
         print $1, class(substr($0, o + 1, c - o - 1)), f[12] + f[13]
       }' /proc/[0-9]*/stat 2>/dev/null
  awk '$1 == "cpu" { print 0, "irq", $7 + $8 }' /proc/stat
}

# kt_delta begin-file < end-snapshot: per class, the ticks from begin to end
# ("class ticks ticks-per-second"); a thread that started since counts whole,
# one that ended since is lost.
kt_delta() {
  awk -v hz="$(getconf CLK_TCK)" 'NR == FNR { b[$1] = $3; next }
    { t[$2] += $3 - ($1 in b ? b[$1] : 0) }
    END { for (k in t) print k, t[k], hz }' "$1" -
}

# kt_table scenario count: per system, the CPU ms per message of the kernel
# threads by class and of irq and softirq, averaged over the rounds, beside
# the machine's and the cgroup's; the rest is every other process (the load
# generators, the bench's tools); without CPU tables (no writable cgroup)
# the cgroup and the rest are n/a. Empty if none was taken.
kt_table() {
  ls "$S/kt/$1".* >/dev/null 2>&1 || return 0
  for _f in "$S/kt/$1".*; do
    _b=${_f##*/}; _b=${_b#"$1".}
    _m=$(awk 'NF == 10 { print ($9 - $4) * 1000 / $10 }' "$S/io/$1.$_b" 2>/dev/null)
    _c=$(awk '$1 == "total" { print $2 / 1000 }' "$S/cpu/$1.$_b" 2>/dev/null)
    awk -v sys="${_b%.*}" -v m="${_m:-0}" -v cg="$_c" '{ print sys, $1, $2 * 1000 / $3 }
      END { print sys, "machine", m; if (cg != "") print sys, "cgroup", cg; print sys, "round", 1 }' "$_f"
  done | awk -v n="$2" '
    { y = $1; if (!(y in seen)) { seen[y] = 1; order[++no] = y } v[y, $2] += $3; if ($2 == "cgroup") cgs[y]++ }
    END {
      if (!no) exit
      split("jbd2 xfs loop kworker ksoftirqd other irq", cl, " ")
      print "| system | machine | cgroup | jbd2 | xfs | loop | kworker | ksoftirqd | other kernel threads | irq + softirq | rest (load generators, bench tools) |"
      print "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"
      for (i = 1; i <= no; i++) {
        # without a cgroup (no CPU tables) neither it nor the rest is known
        y = order[i]; d = n * v[y, "round"]; cg = cgs[y] == v[y, "round"]; rest = v[y, "machine"] - v[y, "cgroup"]
        line = sprintf("| %s | %.3f | %s", y, v[y, "machine"] / d, cg ? sprintf("%.3f", v[y, "cgroup"] / d) : "n/a")
        for (j = 1; j <= 7; j++) { line = line sprintf(" | %.3f", v[y, cl[j]] / d); rest -= v[y, cl[j]] }
        print line (cg ? sprintf(" | %.3f |", rest / d) : " | n/a |")
      }
    }'
}

# io_table scenario count: per system, the device's write requests, KB
# written and flushes, and the machine's CPU ms, per message (per unit of
# count), averaged over the scenario's rounds; empty if none was taken.
io_table() {
  ls "$S/io/$1".* >/dev/null 2>&1 || return 0
  for _f in "$S/io/$1".*; do
    case $_f in *.begin) continue ;; esac
    _b=${_f##*/}; _b=${_b#"$1".}
    awk -v sys="${_b%.*}" 'NF == 10 { print sys, $0 }' "$_f"
  done | awk -v n="$2" '
    { y = $1; if (!(y in r)) order[++no] = y; r[y]++
      w[y] += $7 - $2; kb[y] += ($8 - $3) / 2; fl[y] += $9 - $4; ms[y] += ($10 - $5) * 1000 / $11 }
    END {
      if (!no) exit
      print "| system | write requests/msg | KB written/msg | flushes/msg | machine CPU ms/msg |"
      print "| --- | --- | --- | --- | --- |"
      for (i = 1; i <= no; i++) { y = order[i]; d = n * r[y]
        printf "| %s | %.2f | %.1f | %.2f | %.3f |\n", y, w[y] / d, kb[y] / d, fl[y] / d, ms[y] / d }
    }'
}

# cpu_table scenario count: a Markdown table of CPU ms per message (per unit
# of count) by system and process name, summed over the rounds of the
# scenario, each round's figures divided by count; empty if none was taken.
cpu_table() {
  ls "$S/cpu/$1".* >/dev/null 2>&1 || return 0
  for _f in "$S/cpu/$1".*; do
    case $_f in *.raw|*.err) continue ;; esac
    _b=${_f##*/}; _b=${_b#"$1".}
    awk -v sys="${_b%.*}" '{ print sys, $0 }' "$_f"
  done | awk -v n="$2" '
    $2 == "proc" { k = $1 SUBSEP $3 SUBSEP $4; if (!(k in u)) { order[++no] = k }
                   u[k] += $6; s[k] += $7; c[k] += $5
                   sum[$1] += $6 + $7; sys[$1] = 1 }
    $2 == "total" { tot[$1] += $3; rounds[$1]++; sys[$1] = 1 }
    $2 == "lost" && $3 > 0 { lost[$1] += $3 }
    END {
      print "| system | process | processes | user ms/msg | sys ms/msg | CPU ms/msg |"
      print "| --- | --- | --- | --- | --- | --- |"
      for (y in sys) {
        r = rounds[y] ? rounds[y] : 1
        # rows of this system, largest first
        m = 0
        for (i = 1; i <= no; i++) { split(order[i], kk, SUBSEP); if (kk[1] == y) { m++; key[m] = order[i]; val[m] = u[order[i]] + s[order[i]] } }
        for (i = 1; i <= m; i++) for (j = i + 1; j <= m; j++) if (val[j] > val[i]) { t = val[i]; val[i] = val[j]; val[j] = t; t = key[i]; key[i] = key[j]; key[j] = t }
        for (i = 1; i <= m; i++) {
          k = key[i]; split(k, kk, SUBSEP)
          printf "| %s | %s | %s%s | %.3f | %.3f | %.3f |\n", y, kk[2], c[k] / r, kk[3] == "exited" ? " exited" : "", u[k] / 1000 / n / r, s[k] / 1000 / n / r, (u[k] + s[k]) / 1000 / n / r
        }
        printf "| %s | **all (cgroup total)** | | | | **%.3f** |\n", y, tot[y] / 1000 / n / r
        printf "| %s | not attributed (cgroup − processes: mostly exiting processes torn down after their exit record) | | | | %.3f |\n", y, (tot[y] - sum[y]) / 1000 / n / r
        if (lost[y]) printf "| %s | exit records lost | %d | | | |\n", y, lost[y]
      }
    }'
}

# --- the file system under the scratch directory (--fs) -----------------------
#
# root: /var/tmp as it is. ext4j, xfs: a file system made for the run on a
# sparse loop file /var/tmp/qfbench-fs.XXXXXX.img (16 GiB; ext4 with 4 M
# inodes for (g)'s million queued messages), attached with direct I/O (no
# second page cache under the loop device; an fsync on it reaches the disk
# as one on a real device would) and mounted on /var/tmp/qfbench-fs.XXXXXX/;
# fs_umount undoes all of it. ext4j is mkfs.ext4's default: a journal,
# data=ordered (the root file system here has no journal); noinit_itable
# keeps the kernel's background inode-table zeroing out of the measurements.

FS_IMG= FS_DEV= FS_MNT=

# fs_mount ext4j|xfs: makes and mounts it; sets FS_MNT (the parent for S).
fs_mount() {
  FS_MNT=$(mktemp -d /var/tmp/qfbench-fs.XXXXXX) || die "mktemp failed"
  FS_IMG=$FS_MNT.img
  truncate -s 16G "$FS_IMG" || die "unable to create $FS_IMG"
  FS_DEV=$(losetup -f --show --direct-io=on "$FS_IMG" 2>/dev/null || losetup -f --show "$FS_IMG") ||
    die "unable to attach $FS_IMG to a loop device"
  case $1 in
    ext4j)
      mkfs.ext4 -q -F -N 4000000 -E lazy_itable_init=1,lazy_journal_init=1 "$FS_DEV" > "$FS_MNT.mkfs" 2>&1 ||
        die "mkfs.ext4 $FS_DEV failed: $(cat "$FS_MNT.mkfs")"
      mount -t ext4 -o noinit_itable "$FS_DEV" "$FS_MNT" || die "unable to mount $FS_DEV on $FS_MNT" ;;
    xfs)
      mkfs.xfs -q -f "$FS_DEV" > "$FS_MNT.mkfs" 2>&1 || die "mkfs.xfs $FS_DEV failed: $(cat "$FS_MNT.mkfs")"
      mount -t xfs "$FS_DEV" "$FS_MNT" || die "unable to mount $FS_DEV on $FS_MNT" ;;
  esac
  rm -f "$FS_MNT.mkfs"
  chmod 755 "$FS_MNT"
}

# fs_umount: unmounts (lazily if it is still busy after 10 s), detaches and
# removes the loop file; nothing if --fs root.
fs_umount() {
  [ -n "$FS_MNT" ] || return 0
  if mountpoint -q "$FS_MNT"; then
    _i=0
    until umount "$FS_MNT" 2>/dev/null; do
      _i=$((_i + 1))
      if [ $_i -ge 20 ]; then say "$FS_MNT still busy: lazy unmount"; umount -l "$FS_MNT"; break; fi
      sleep 0.5
    done
  fi
  [ -n "$FS_DEV" ] && losetup -d "$FS_DEV" 2>/dev/null
  rm -f "$FS_IMG" "$FS_MNT.mkfs"
  rmdir "$FS_MNT" 2>/dev/null
  FS_MNT= FS_DEV= FS_IMG=
}

# fs_describe: the scratch file system for the report.
fs_describe() {
  case $FS in
    root)
      _dev=$(df -P /var/tmp | awk 'NR == 2 { print $1 }')
      _j="no journal"
      ls /proc/fs/jbd2 2>/dev/null | grep -q "^${_dev##*/}-" && _j="journal"
      [ "$(findmnt -n -o FSTYPE -T /var/tmp)" = ext4 ] || _j=""
      echo "root: /var/tmp as it is, $(df -PT /var/tmp | awk 'NR == 2 { print $2 " on " $1 }')${_j:+, $_j} ($(fs_opts /var/tmp))" ;;
    ext4j) echo "ext4j: ext4 with a journal, made for this run on a 16 GiB loop file in /var/tmp ($(fs_opts "$S"))" ;;
    xfs) echo "xfs: made for this run on a 16 GiB loop file in /var/tmp ($(fs_opts "$S"))" ;;
  esac
}
fs_opts() { findmnt -n -o FSTYPE,OPTIONS -T "$1" | awk '{ print $1 " " $2 }'; }
