# bench/lib/scenarios.sh: the benchmark scenarios (POSIX sh), one function
# scn_X per scenario X, called by bench/run in the order given.
#
# Adding or finishing a scenario: write scn_X; for each system it can run,
# check its programs (skip_note when one is missing: the report says so),
# create the instance, then let run_rounds call one fresh measurement per
# system per round, the systems in alternation (round_order), and record
# each with
#     round_result X SYSTEM r SECONDS VALUE [INJECTION-SECONDS]
# where VALUE is msgs/s (or seconds for a time scenario; see scn_unit).
# bench/run turns the recorded rounds into medians, ratios and the table.
# Helpers: lib/common.sh (timing, ports, waits, sinks), lib/postfix.sh (pf_*),
# lib/qfleet.sh (qf_*).
#
# Every scenario starts and stops a system around each measurement, so the
# two systems never run at the same time, and calls sync before the clock
# starts, so writeback of the previous round does not land in this one.

# Per scenario: a title for the table, what it measures, the unit, the
# direction that is better and the target of issue 6 (qfleet/Postfix).
scn_title() {
  case $1 in
    a) echo "(a) 4 CLI injector loops → local Maildir, $N × 2 KB" ;;
    b) echo "(b) smtp-source ×8 → SMTP ingress → relay to smtp-sink, $N × 2 KB" ;;
    c) echo "(c) 1 message × $RCPTS_C recipients → smtp-sink" ;;
    d) echo "(d) 100 fresh messages while ${D_DEFERRED:-10000} deferred are force-retried" ;;
    e) echo "(e) smtp-source ×8 → local Maildir, $N × 2 KB" ;;
    f) echo "(f) qfleet alone: QUEUE_COUNT 1, 2, 4 (as (a))" ;;
    g) echo "(g) qmail-send VmHWM and start-up, ${G_QUEUED:-1000000} queued" ;;
    h) echo "(h) $H_FAST messages to a fast destination after $H_SLOW to a slow one (smtp-sink -w 1)" ;;
    i) echo "(i) $I_SINGLES one-recipient messages after one of $I_RCPTS recipients, one destination (smtp-sink -w 1)" ;;
  esac
}
scn_unit() { case $1 in c|d|h|i) echo s ;; g) echo "MB, s" ;; *) echo msgs/s ;; esac; }
scn_target() { case $1 in a|b|e) echo "≥ 2.0" ;; c|d|h|i) echo "≤ 0.5 (time)" ;; g) echo "RSS ≤ 64 MB" ;; *) echo "" ;; esac; }
# scn_commits: scenarios whose rate is compared with the durable-commit limit.
scn_commits() { case $1 in a|b|e) return 0 ;; *) return 1 ;; esac; }

# round_order r: the systems of round r, alternating which goes first.
round_order() {
  if [ $(($1 % 2)) = 1 ]; then echo "postfix qfleet"; else echo "qfleet postfix"; fi
}

# run_rounds dc|nodc command...: rounds 1..$ROUNDS; each measures the disk's
# durable-commit limit first (dc), then runs "command... SYSTEM ROUND" for
# each system of $systems, in round_order.
run_rounds() {
  _rr_dc=$1; shift
  _rr=1
  while [ $_rr -le "$ROUNDS" ]; do
    [ "$_rr_dc" = dc ] && measure_dc
    for _rr_sys in $(round_order $_rr); do
      case " $systems " in *" $_rr_sys "*) "$@" "$_rr_sys" $_rr ;; esac
    done
    _rr=$((_rr + 1))
  done
}

# round_result scenario system round seconds value [injection-seconds]
round_result() {
  echo "$1 $2 $3 $4 $5 ${6:--}" >> "$S/rounds"
  say "($1) $2 round $3: $5 $(scn_unit "$1") (${4}s; injection ${6:--}s)"
}

# round_fail scenario system round reason: a round that produced no number.
round_fail() {
  echo "$1 $2 $3 - - -" >> "$S/rounds"
  echo "- ($1) $2 round $3 failed: $4" >> "$S/notes"
  say "($1) $2 round $3 failed: $4"
}

# want_system name: true if --systems selected it.
want_system() { case ",$SYSTEMS," in *",$1,"*) return 0 ;; *) return 1 ;; esac; }

# usable_systems scenario qfleet-programs...: the systems the scenario can
# run here (on stdout); a report note for each one it cannot.
usable_systems() {
  _sc=$1; shift
  _sys=
  if want_system postfix; then
    _pm=$(pf_missing)
    if [ -n "$_pm" ]; then skip_note "$_sc" postfix "missing $_pm"; else _sys="$_sys postfix"; fi
  fi
  if want_system qfleet; then
    _qm=$(qf_missing "$@")
    if [ -n "$_qm" ]; then skip_note "$_sc" qfleet "missing $_qm (not built in this tree yet)"; else _sys="$_sys qfleet"; fi
  fi
  echo "$_sys"
}

# measure_dc: one measurement of the disk's durable-commit limit, with the
# same parallelism (4) and count as the scenario, in the scratch dir.
measure_dc() {
  retire "$S/dc"; mkdir "$S/dc"
  sync
  interruptible "$(tool durable-commit)" "$S/dc" 4 "$N" > "$S/dc.out" || { say "durable-commit failed"; return 0; }
  _o=$(cat "$S/dc.out")
  echo "$_o" | awk '{ print $3 }' >> "$S/dc.rates"
  say "durable-commit limit: $(echo "$_o" | awk '{ print $3 }') msgs/s"
  retire "$S/dc"
}

# timeout_for count: seconds a round may take before it counts as failed.
timeout_for() { echo $((120 + $1 / 20)); }

# --- instances used by several scenarios -------------------------------------

# sys_create system: a fresh instance of system under $S (PF or QF dir).
sys_create() {
  case $1 in
    postfix) pf_destroy "$PF"; bench_user_home "$PF/home"; pf_create "$PF" ;;
    qfleet) qf_destroy "$QF"; qf_create "$QF" ;;
  esac
}
# sys_destroy system: stops the instance and removes it (with --keep: moves
# it aside as $PF.N or $QF.N for a post-mortem).
sys_destroy() {
  _dir=$PF
  [ "$1" = qfleet ] && _dir=$QF
  if [ "$KEEP" = 1 ] && [ -d "$_dir" ]; then
    sys_stop "$1"
    _k=1
    while [ -e "$_dir.$_k" ]; do _k=$((_k + 1)); done
    mv "$_dir" "$_dir.$_k"
    return 0
  fi
  case $1 in
    postfix) pf_destroy "$PF" ;;
    qfleet) qf_destroy "$QF" ;;
  esac
}
sys_start() { case $1 in postfix) pf_start "$PF" ;; qfleet) qf_start "$QF" ;; esac; }
sys_stop() { case $1 in postfix) pf_stop "$PF" ;; qfleet) qf_stop "$QF" ;; esac; }
sys_maildir() { case $1 in postfix) pf_maildir "$PF" ;; qfleet) qf_maildir "$QF" ;; esac; }
sys_mail_owner() { case $1 in postfix) echo "$BENCH_USER" ;; qfleet) qf_mail_owner ;; esac; }
sys_log() { case $1 in postfix) echo "$PF/maillog" ;; qfleet) echo "$QF/log" ;; esac; }
sys_queue_empty() { case $1 in postfix) pf_queue_empty "$PF" ;; qfleet) qf_queue_empty "$QF" ;; esac; }

# sys_smtp_start system: the system's SMTP ingress on 127.0.0.1 (Postfix:
# its smtpd, already up with the instance; qfleet: qmail-smtpd -L, or under
# tcpserver with BENCH_QF_SMTPD=tcpserver, as qmailq, see lib/qfleet.sh).
# Sets SMTP_PORT and records the ingress in the report's header.
sys_smtp_start() {
  case $1 in
    postfix)
      echo "SMTP ingress Postfix: smtpd → cleanup (long-lived, master(8) defaults)" >> "$S/injectors"
      SMTP_PORT=$PF_SMTP_PORT ;;
    qfleet)
      _u=$(qf_smtpd_user)
      # qmail-smtpd's own listener (-L: reused workers, no fork or exec per
      # connection) unless BENCH_QF_SMTPD=tcpserver; the environment is
      # passed on either way.
      if [ "${BENCH_QF_SMTPD:-listener}" = tcpserver ]; then
        echo "SMTP ingress qfleet: tcpserver → qmail-smtpd (fork+exec per connection, as $_u) → $(qf_queue_path)" >> "$S/injectors"
        $(cg_exec) env $(qf_env "$QF") tcpserver -q -H -R -l "mx.$BENCH_DOMAIN" \
          -u "$(id -u "$_u")" -g "$(id -g "$_u")" 127.0.0.1 "$QF_SMTP_PORT" "$QF_BIN/qmail-smtpd" \
          > "$QF/smtpd.log" 2>&1 9>&- &
      else
        # BENCH_QF_SMTPD=fork: -m 1, a fresh worker (a fork) per connection.
        _m=100 _how="pool of reused workers"
        [ "${BENCH_QF_SMTPD:-listener}" = fork ] && _m=1 _how="-m 1: a fork per connection"
        echo "SMTP ingress qfleet: qmail-smtpd -L ($_how, as $_u) → $(qf_queue_path)" >> "$S/injectors"
        $(cg_exec) env $(qf_env "$QF") "$QF_BIN/qmail-smtpd" -L -c 40 -m $_m -l "mx.$BENCH_DOMAIN" \
          -u "$(id -u "$_u")" -g "$(id -g "$_u")" 127.0.0.1 "$QF_SMTP_PORT" \
          > "$QF/smtpd.log" 2>&1 9>&- &
      fi
      QF_SMTPD_PID=$!
      BENCH_PIDS="$BENCH_PIDS $QF_SMTPD_PID"
      wait_for 10 port_listening "$QF_SMTP_PORT" || die "qmail-smtpd did not listen on $QF_SMTP_PORT"
      SMTP_PORT=$QF_SMTP_PORT ;;
  esac
}
sys_smtp_stop() {
  [ "$1" = qfleet ] && [ -n "${QF_SMTPD_PID:-}" ] || return 0
  kill -TERM "$QF_SMTPD_PID" 2>/dev/null
  wait "$QF_SMTPD_PID" 2>/dev/null
  BENCH_PIDS=$(echo "$BENCH_PIDS" | sed "s/ $QF_SMTPD_PID\b//")
  QF_SMTPD_PID=
}

# drain_and_stop scenario system round: after the clock has stopped, waits
# (untimed, up to 30 s) until the system has removed its last queue file,
# so that stopping it cannot leave a delivered message behind for a second
# delivery, then stops it. A queue that does not empty is noted.
drain_and_stop() {
  wait_for 30 sys_queue_empty "$2" ||
    echo "- ($1) $2 round $3: messages still queued 30 s after the last delivery" >> "$S/notes"
  cpu_end
  sys_stop "$2"
}

# --- (a) 4 CLI injector loops -> local Maildir --------------------------------

# a_injector system: sets INJ_CMD, the injector loop of the system (4
# workers, N messages; tools/cmd-loop runs the CLI injector once per message
# with the message on fd 0), and INJ_MODE, its description for the report.
a_injector() {
  case $1 in
    postfix)
      INJ_MODE="Postfix: sendmail -C (as root) → postdrop → pickup"
      INJ_CMD="$(tool cmd-loop) 4 $N $S/msg.local $(pf_sendmail_cmd "$PF") -f$BENCH_SENDER $BENCH_RCPT" ;;
    qfleet)
      _u=$(qf_client_user)
      if [ -x "$QF_BIN/qmail-inject" ]; then
        INJ_MODE="qfleet: bin/qmail-inject (as $_u) → $(qf_queue_path)"
        INJ_CMD="setuidgid $_u env $(qf_env "$QF") $(tool cmd-loop) 4 $N $S/msg.local $QF_BIN/qmail-inject -f$BENCH_SENDER $BENCH_RCPT"
      else
        INJ_MODE="qfleet: bin/qmail-queue through bench/tools/inject-loop (as $_u; bin/qmail-inject missing: no header processing)"
        INJ_CMD="setuidgid $_u env $(qf_env "$QF") $(tool inject-loop) $QF_BIN/qmail-queue $S/msg.local $S/env.local 4 $N"
      fi ;;
  esac
}

scn_a() {
  systems=$(usable_systems a $QF_LOCAL)
  [ -n "$systems" ] || return 0
  make_message "$S/msg.local" 2048 "$BENCH_RCPT"
  printf 'F%s\0T%s\0\0' "$BENCH_SENDER" "$BENCH_RCPT" > "$S/env.local"
  chmod 644 "$S/msg.local" "$S/env.local"
  for sys in $systems; do sys_create "$sys"; done
  run_rounds dc a_round
  for sys in $systems; do sys_destroy "$sys"; done
}

# a_round system round [scenario [label]]: one measurement of (a) (or of a
# scenario that reuses it, recorded under label instead of system).
a_round() {
  _sys=$1 _r=$2 _sc=${3:-a} _lab=${4:-$1}
  _md=$(sys_maildir "$_sys")
  maildir_reset "$_md" "$(sys_mail_owner "$_sys"):"
  cpu_prepare "$_sc" "$_lab" "$_r"
  a_injector "$_sys"
  echo "$INJ_MODE" >> "$S/injectors"
  sys_start "$_sys"
  sync
  cpu_begin
  _t0=$(now)
  $(cg_exec) $INJ_CMD > "$S/inj.out" 2> "$S/inj.err" &
  _ipid=$!
  BENCH_PIDS="$BENCH_PIDS $_ipid"
  interruptible "$(tool wait-count)" dir "$_md/new" "$N" "$(timeout_for "$N")" > "$S/wait.out"
  _wrc=$?
  wait "$_ipid"; _irc=$?
  BENCH_PIDS=$(echo "$BENCH_PIDS" | sed "s/ $_ipid\b//")
  drain_and_stop "$_sc" "$_sys" "$_r"
  _got=$(maildir_count "$_md")
  if [ "$_irc" != 0 ]; then
    round_fail "$_sc" "$_lab" "$_r" "injector failed: $(cat "$S/inj.out") $(head -c 300 "$S/inj.err")"
    return 0
  fi
  if [ "$_wrc" != 0 ]; then
    round_fail "$_sc" "$_lab" "$_r" "timeout: $_got of $N delivered after $(timeout_for "$N") s (log: $(sys_log "$_sys"))"
    return 0
  fi
  [ "$_got" = "$N" ] || echo "- ($_sc) $_lab round $_r: $_got messages in the Maildir for $N injected" >> "$S/notes"
  _t1=$(awk '{ print $1 }' "$S/wait.out")
  _secs=$(elapsed "$_t0" "$_t1")
  round_result "$_sc" "$_lab" "$_r" "$_secs" "$(rate "$N" "$_secs")" "$(awk '{ print $2 }' "$S/inj.out")"
}

# --- (b) and (e): smtp-source x8 -> SMTP ingress ------------------------------

# smtp-source opens a new connection for each message (its default; set
# BENCH_SMTP_REUSE=1 to add -d and reuse connections), 8 at a time.
smtp_source_run() { # port rcpt count
  _d=
  [ "${BENCH_SMTP_REUSE:-0}" = 1 ] && _d=-d
  smtp-source -s 8 -m "$3" -l 2048 $_d -M "client.$BENCH_DOMAIN" -f "$BENCH_SENDER" -t "$2" "127.0.0.1:$1"
}

scn_b() {
  systems=$(usable_systems b $QF_REMOTE $QF_SMTPD)
  case " $systems " in *" qfleet "*)
    command -v tcpserver >/dev/null || { skip_note b qfleet "tcpserver missing (ucspi-tcp)"; systems=$(echo "$systems" | sed 's/qfleet//'); } ;;
  esac
  nonblank "$systems" || return 0
  for sys in $systems; do sys_create "$sys"; done
  run_rounds dc smtp_round b
  for sys in $systems; do sys_destroy "$sys"; done
}

scn_e() {
  systems=$(usable_systems e $QF_LOCAL $QF_SMTPD)
  case " $systems " in *" qfleet "*)
    command -v tcpserver >/dev/null || { skip_note e qfleet "tcpserver missing (ucspi-tcp)"; systems=$(echo "$systems" | sed 's/qfleet//'); } ;;
  esac
  nonblank "$systems" || return 0
  for sys in $systems; do sys_create "$sys"; done
  run_rounds dc smtp_round e
  for sys in $systems; do sys_destroy "$sys"; done
}

# smtp_round b|e system round: b ends when smtp-sink has taken N messages,
# e when N files are in the Maildir.
smtp_round() {
  _sc=$1 _sys=$2 _r=$3
  _to=$(timeout_for "$N")
  if [ "$_sc" = b ]; then
    _rcpt=$BENCH_SINK_RCPT
    sink_start b "$SINK_PORT" 0
    _spid=$SINK_PID
  else
    _rcpt=$BENCH_RCPT
    _md=$(sys_maildir "$_sys")
    maildir_reset "$_md" "$(sys_mail_owner "$_sys"):"
  fi
  cpu_prepare "$_sc" "$_sys" "$_r"
  sys_start "$_sys"
  sys_smtp_start "$_sys"
  _port=$SMTP_PORT
  sync
  cpu_begin
  _t0=$(now)
  ( _a=$(now); smtp_source_run "$_port" "$_rcpt" "$N" > "$S/src.out" 2>&1; _rc=$?; echo "$_rc $(elapsed "$_a" "$(now)")" > "$S/src.rc" ) &
  _ipid=$!
  BENCH_PIDS="$BENCH_PIDS $_ipid"
  if [ "$_sc" = b ]; then
    interruptible "$(tool wait-count)" sink "$S/sink.b.out" "$N" "$_to" > "$S/wait.out"; _wrc=$?
  else
    interruptible "$(tool wait-count)" dir "$_md/new" "$N" "$_to" > "$S/wait.out"; _wrc=$?
  fi
  _t1=$(awk '{ print $1 }' "$S/wait.out")
  _got=$(awk '{ print $2 }' "$S/wait.out")
  wait "$_ipid"
  BENCH_PIDS=$(echo "$BENCH_PIDS" | sed "s/ $_ipid\b//")
  sys_smtp_stop "$_sys"
  drain_and_stop "$_sc" "$_sys" "$_r"
  [ "$_sc" = b ] && sink_stop "$_spid"
  [ "$_sc" = e ] && _got=$(maildir_count "$_md")
  set -- $(cat "$S/src.rc" 2>/dev/null)
  if [ "${1:-1}" != 0 ]; then
    round_fail "$_sc" "$_sys" "$_r" "smtp-source failed: $(tail -n 3 "$S/src.out" | tr '\n' ' ')"
    return 0
  fi
  if [ "$_wrc" != 0 ]; then
    round_fail "$_sc" "$_sys" "$_r" "timeout: ${_got:-?} of $N delivered after $_to s (log: $(sys_log "$_sys"))"
    return 0
  fi
  [ "$_got" != "$N" ] && echo "- ($_sc) $_sys round $_r: $_got messages delivered for $N sent" >> "$S/notes"
  _secs=$(elapsed "$_t0" "$_t1")
  round_result "$_sc" "$_sys" "$_r" "$_secs" "$(rate "$N" "$_secs")" "$2"
}

# --- (c) 1 message x RCPTS_C recipients -> smtp-sink -----------------------

scn_c() {
  systems=$(usable_systems c $QF_REMOTE)
  [ -n "$systems" ] || return 0
  make_message "$S/msg.sink" 2048 "list@$BENCH_SINK_DOMAIN"
  i=1; : > "$S/rcpts.c"
  while [ $i -le "$RCPTS_C" ]; do echo "r$i@$BENCH_SINK_DOMAIN" >> "$S/rcpts.c"; i=$((i + 1)); done
  { printf 'F%s\0' "$BENCH_SENDER"; while read -r a; do printf 'T%s\0' "$a"; done < "$S/rcpts.c"; printf '\0'; } > "$S/env.sink"
  chmod 644 "$S/msg.sink" "$S/env.sink" "$S/rcpts.c"
  for sys in $systems; do sys_create "$sys"; done
  run_rounds nodc c_round
  for sys in $systems; do sys_destroy "$sys"; done
}

# c_inject system: queues the message once, for every recipient.
c_inject() {
  case $1 in
    postfix) $(cg_exec) $(pf_sendmail_cmd "$PF") -f"$BENCH_SENDER" $(cat "$S/rcpts.c") < "$S/msg.sink" ;;
    qfleet)
      _u=$(qf_client_user)
      if [ -x "$QF_BIN/qmail-inject" ]; then
        $(cg_exec) setuidgid "$_u" env $(qf_env "$QF") "$QF_BIN/qmail-inject" -f"$BENCH_SENDER" $(cat "$S/rcpts.c") < "$S/msg.sink"
      else
        $(cg_exec) setuidgid "$_u" env $(qf_env "$QF") "$QF_BIN/qmail-queue" < "$S/msg.sink" 1< "$S/env.sink"
      fi ;;
  esac
}

c_round() {
  _sys=$1 _r=$2
  _to=$(timeout_for "$RCPTS_C")
  rm -rf "$S/sinkdump"; mkdir "$S/sinkdump"; chown nobody "$S/sinkdump"
  sink_start c "$SINK_PORT" 0 -D "$S/sinkdump/dump"
  _spid=$SINK_PID
  cpu_prepare c "$_sys" "$_r"
  sys_start "$_sys"
  sync
  cpu_begin
  _t0=$(now)
  interruptible c_inject "$_sys" > "$S/inj.err" 2>&1; _irc=$?
  _t_inj=$(now)
  _ok=1
  interruptible "$(tool wait-count)" prefix "$S/sinkdump/dump" X-Rcpt-Args: "$RCPTS_C" "$_to" > "$S/wait.out" || _ok=0
  _t1=$(awk '{ print $1 }' "$S/wait.out")
  drain_and_stop c "$_sys" "$_r"
  sink_stop "$_spid"
  _got=$(grep -c '^X-Rcpt-Args:' "$S/sinkdump/dump" 2>/dev/null || echo 0)
  _tx=$(grep -c '^X-Mail-Args:' "$S/sinkdump/dump" 2>/dev/null || echo 0)
  _conn=$(tail -c 200 "$S/sink.c.out" | tr '\r' '\n' | sed -n 's/.*sess=\([0-9]*\).*/\1/p' | tail -n 1)
  if [ "$_irc" != 0 ]; then
    round_fail c "$_sys" "$_r" "injection failed: $(head -c 300 "$S/inj.err")"; return 0
  fi
  if [ "$_ok" = 0 ]; then
    round_fail c "$_sys" "$_r" "timeout: $_got of $RCPTS_C recipients at the sink after $_to s"; return 0
  fi
  echo "- (c) $_sys round $_r: $_got recipients in $_tx transactions over ${_conn:-?} connections" >> "$S/notes"
  _secs=$(elapsed "$_t0" "$_t1")
  round_result c "$_sys" "$_r" "$_secs" "$_secs" "$(elapsed "$_t0" "$_t_inj")"
}


# --- extension points ------------------------------------------------------

# (d) 100 fresh messages while D_DEFERRED (10,000; --quick 1,000) deferred
# ones are force-retried. An smtp-sink that answers 4xx to RCPT takes the
# deferred messages' first attempt (all injected by the (a) injector loops to
# $BENCH_SINK_DOMAIN); once every one has been deferred, that sink is
# replaced by one that accepts, a second sink for $D_FRESH_DOMAIN starts, the
# retry is forced (Postfix: postqueue -f; qfleet: ALRM to qmail-send) and 100
# fresh messages to $D_FRESH_DOMAIN are injected at once. The measure is the
# time from the forced retry to the 100th fresh message at the second sink:
# new mail must not starve behind a retry storm (target qfleet/Postfix ≤ 0.5).
D_FRESH_DOMAIN=fresh.test

scn_d() {
  systems=$(usable_systems d $QF_REMOTE)
  [ -n "$systems" ] || return 0
  D_DEFERRED=${D_DEFERRED:-$([ "${quick:-0}" = 1 ] && echo 1000 || echo 10000)}
  D_FRESH_PORT=$(free_port)
  make_message "$S/msg.d" 2048 "$BENCH_SINK_RCPT"
  make_message "$S/msg.fresh" 2048 "rcpt@$D_FRESH_DOMAIN"
  chmod 644 "$S/msg.d" "$S/msg.fresh"
  run_rounds nodc d_round
}

# d_inject system count message rcpt workers: the (a) injector loop.
d_inject() {
  case $1 in
    postfix) "$(tool cmd-loop)" "$5" "$2" "$3" $(pf_sendmail_cmd "$PF") -f"$BENCH_SENDER" "$4" ;;
    qfleet) setuidgid "$(qf_client_user)" env $(qf_env "$QF") "$(tool cmd-loop)" "$5" "$2" "$3" "$QF_BIN/qmail-inject" -f"$BENCH_SENDER" "$4" ;;
  esac
}

# d_deferred system: how many deferrals the system has logged.
d_deferred() {
  case $1 in
    postfix) grep -c 'status=deferred' "$PF/maillog" 2>/dev/null || true ;;
    qfleet) grep -c '^delivery [0-9.]*: deferral:' "$QF/log" 2>/dev/null || true ;;
  esac
}
d_all_deferred() { [ "$(d_deferred "$1")" -ge "$D_DEFERRED" ]; }

d_round() {
  _sys=$1 _r=$2
  sys_create "$_sys"
  case $_sys in
    postfix) echo "$D_FRESH_DOMAIN smtp:[127.0.0.1]:$D_FRESH_PORT" >> "$PF/etc/transport" ;;
    qfleet) echo "$D_FRESH_DOMAIN:127.0.0.1:$D_FRESH_PORT" >> "$QF/control/smtproutes" ;;
  esac
  sink_start d "$SINK_PORT" 0 -r RCPT
  _spid=$SINK_PID
  sys_start "$_sys"
  say "(d) $_sys round $_r: queueing $D_DEFERRED messages that the sink defers"
  interruptible d_inject "$_sys" "$D_DEFERRED" "$S/msg.d" "$BENCH_SINK_RCPT" 4 > "$S/inj.out" 2> "$S/inj.err" || {
    sink_stop "$_spid"; sys_destroy "$_sys"
    round_fail d "$_sys" "$_r" "injection of the deferred messages failed: $(head -c 300 "$S/inj.err")"; return 0; }
  if ! wait_for "$(timeout_for "$D_DEFERRED")" d_all_deferred "$_sys"; then
    _n=$(d_deferred "$_sys")  # counted before sys_destroy removes the log
    sink_stop "$_spid"; sys_destroy "$_sys"
    round_fail d "$_sys" "$_r" "only ${_n:-0} of $D_DEFERRED deferred"; return 0
  fi
  sink_stop "$_spid"
  sink_start d "$SINK_PORT" 0
  _spid=$SINK_PID
  sink_start dfresh "$D_FRESH_PORT" 0
  _fpid=$SINK_PID
  sync
  _t0=$(now)
  case $_sys in
    postfix) "$PF_SBIN/postqueue" -c "$PF/etc" -f ;;
    qfleet) kill -ALRM "$QF_PID" ;;
  esac
  d_inject "$_sys" 100 "$S/msg.fresh" "rcpt@$D_FRESH_DOMAIN" 1 > "$S/inj.out" 2> "$S/inj.err"
  _t_inj=$(now)
  interruptible "$(tool wait-count)" sink "$S/sink.dfresh.out" 100 "$(timeout_for "$D_DEFERRED")" > "$S/wait.out"; _wrc=$?
  _t1=$(awk '{ print $1 }' "$S/wait.out")
  # untimed: let the retried ones reach the first sink before stopping
  wait_for "$(timeout_for "$D_DEFERRED")" sys_queue_empty "$_sys" ||
    echo "- (d) $_sys round $_r: messages still queued after the retry" >> "$S/notes"
  sink_stop "$_fpid"; sink_stop "$_spid"
  sys_destroy "$_sys"
  if [ "$_wrc" != 0 ]; then
    round_fail d "$_sys" "$_r" "timeout: the 100 fresh messages did not all arrive"; return 0
  fi
  _secs=$(elapsed "$_t0" "$_t1")
  round_result d "$_sys" "$_r" "$_secs" "$_secs" "$(elapsed "$_t0" "$_t_inj")"
}

# (f) qfleet alone, QUEUE_COUNT 1, 2, 4: scenario (a) (the same injector
# loops, N messages, local Maildir) with the queues run by qscheduler -s
# over QUEUE_BASE/queue1..n and qmail-queue picking a queue at random per
# message. Recorded as systems qfleet-q1, qfleet-q2, qfleet-q4; the table
# shows each, and the ratio column each against QUEUE_COUNT 1.
F_COUNTS="1 2 4"

scn_f() {
  want_system qfleet || return 0
  _m=$(qf_missing $QF_LOCAL qscheduler)
  if [ -n "$_m" ]; then skip_note f qfleet "missing $_m (not built in this tree yet)"; return 0; fi
  make_message "$S/msg.local" 2048 "$BENCH_RCPT"
  printf 'F%s\0T%s\0\0' "$BENCH_SENDER" "$BENCH_RCPT" > "$S/env.local"
  chmod 644 "$S/msg.local" "$S/env.local"
  r=1
  while [ $r -le "$ROUNDS" ]; do
    # alternate the order of the counts from round to round, as the systems
    _order=$F_COUNTS
    [ $((r % 2)) = 0 ] && _order=$(echo "$F_COUNTS" | tr ' ' '\n' | sort -rn | tr '\n' ' ')
    for _c in $_order; do
      QF_QUEUES=$_c
      sys_create qfleet
      a_round qfleet "$r" "f" "qfleet-q$_c"
      sys_destroy qfleet
    done
    r=$((r + 1))
  done
  QF_QUEUES=0
}

# (g) qmail-send's peak RSS (VmHWM in /proc/PID/status) and the time from
# start to its first status line with G_QUEUED (1,000,000; --quick 100,000)
# messages queued, written straight into the stopped queue by
# tools/fill-queue (qmail-queue would take an hour), each due a day later so
# qmail-send loads them all and waits. The queue lives on a tmpfs when root
# may mount one (the files are empty: it is inodes that count). Target RSS ≤ 64 MB.
scn_g() {
  want_system qfleet || return 0
  _m=$(qf_missing qmail-start qmail-send)
  if [ -n "$_m" ]; then skip_note g qfleet "missing $_m"; return 0; fi
  G_QUEUED=${G_QUEUED:-$([ "${quick:-0}" = 1 ] && echo 100000 || echo 1000000)}
  r=1
  while [ $r -le "$ROUNDS" ]; do
    sys_create qfleet
    _tmpfs=
    if mount -t tmpfs -o size=4g,nr_inodes=4000000 tmpfs "$QF/queue" 2>/dev/null; then
      _tmpfs=1
      env $(qf_env "$QF") "$QF_BIN/queue-fix" -q "$QF/queue" || die "queue-fix on the tmpfs"
    fi
    say "(g) round $r: writing $G_QUEUED messages into the queue"
    interruptible "$(tool fill-queue)" "$QF/queue" "$(head -n 1 "$TOP/conf-split")" "$G_QUEUED" > /dev/null ||
      { [ -n "$_tmpfs" ] && umount "$QF/queue"; round_fail g qfleet "$r" "fill-queue failed"; return 0; }
    sync
    _t0=$(now)
    qf_start "$QF"
    _t1=$(now)
    sleep 2
    _hwm=$(awk '/^VmHWM:/ { printf "%.1f", $2 / 1024 }' "/proc/$QF_PID/status")
    qf_stop "$QF"
    [ -n "$_tmpfs" ] && umount "$QF/queue"
    sys_destroy qfleet
    echo "- (g) round $r: $G_QUEUED messages queued$([ -n "$_tmpfs" ] && echo ' (queue on a tmpfs)'); start-up $(elapsed "$_t0" "$_t1") s; VmHWM ${_hwm} MB" >> "$S/notes"
    round_result g qfleet "$r" "$(elapsed "$_t0" "$_t1")" "$_hwm"
    r=$((r + 1))
  done
}

# --- (h) and (i): the delivery scheduler (issue 12) ---------------------------
#
# Both run each system with its own defaults (qfleet: concurrencylocal 10,
# concurrencyremote 100, Postfix's default_process_limit; 20 per destination),
# even with BENCH_QF_CONCURRENCY* set. The instance is destroyed after each
# measurement without a drain (the slow backlog would take minutes): nothing
# left in it is counted.
H_SLOW=2000 H_FAST=500
I_RCPTS=10000 I_SINGLES=100

# hi_create system route...: a fresh instance with default concurrency and a
# route "domain:port" for each argument.
hi_create() {
  _sys=$1; shift
  sys_create "$_sys"
  for _route in "$@"; do
    _dom=${_route%%:*} _port=${_route#*:}
    case $_sys in
      postfix) echo "$_dom smtp:[127.0.0.1]:$_port" >> "$PF/etc/transport" ;;
      qfleet) echo "$_dom:127.0.0.1:$_port" >> "$QF/control/smtproutes" ;;
    esac
  done
  [ "$_sys" = qfleet ] && rm -f "$QF/control/concurrencylocal" "$QF/control/concurrencyremote"
  return 0
}

# (h) H_SLOW messages to slow.test (smtp-sink -w 1: a second before each DATA
# answer) are queued first, by the (a) injector loops, and the system starts
# on them; then the clock starts and H_FAST messages to fast.test are
# injected the same way. The measure: seconds until the last fast one is at
# its sink. A slow destination must leave room for every other.
scn_h() {
  systems=$(usable_systems h $QF_REMOTE)
  [ -n "$systems" ] || return 0
  H_SLOW_PORT=$(free_port) H_FAST_PORT=$(free_port)
  make_message "$S/msg.slow" 2048 "rcpt@slow.test"
  make_message "$S/msg.fast" 2048 "rcpt@fast.test"
  chmod 644 "$S/msg.slow" "$S/msg.fast"
  run_rounds nodc h_round
}

h_round() {
  _sys=$1 _r=$2
  hi_create "$_sys" "slow.test:$H_SLOW_PORT" "fast.test:$H_FAST_PORT"
  sink_start hslow "$H_SLOW_PORT" 0 -w 1
  _spid=$SINK_PID
  sink_start hfast "$H_FAST_PORT" 0
  _fpid=$SINK_PID
  sys_start "$_sys"
  interruptible d_inject "$_sys" "$H_SLOW" "$S/msg.slow" rcpt@slow.test 4 > "$S/inj.out" 2> "$S/inj.err" || {
    sink_stop "$_spid"; sink_stop "$_fpid"; sys_destroy "$_sys"
    round_fail h "$_sys" "$_r" "injection of the slow messages failed: $(head -c 300 "$S/inj.err")"; return 0; }
  sync
  _t0=$(now)
  interruptible d_inject "$_sys" "$H_FAST" "$S/msg.fast" rcpt@fast.test 4 > "$S/inj.out" 2> "$S/inj.err"
  _irc=$?
  _t_inj=$(now)
  interruptible "$(tool wait-count)" sink "$S/sink.hfast.out" "$H_FAST" "$(timeout_for "$H_SLOW")" > "$S/wait.out"; _wrc=$?
  _t1=$(awk '{ print $1 }' "$S/wait.out")
  _slow=$(tail -c 300 "$S/sink.hslow.out" | tr '\r' '\n' | sed -n 's/.*mesg=\([0-9]*\).*/\1/p' | tail -n 1)
  sys_stop "$_sys"
  sink_stop "$_fpid"; sink_stop "$_spid"
  sys_destroy "$_sys"
  if [ "$_irc" != 0 ]; then
    round_fail h "$_sys" "$_r" "injection of the fast messages failed: $(head -c 300 "$S/inj.err")"; return 0
  fi
  if [ "$_wrc" != 0 ]; then
    round_fail h "$_sys" "$_r" "timeout: $(awk '{ print $2 }' "$S/wait.out") of $H_FAST fast messages"; return 0
  fi
  echo "- (h) $_sys round $_r: ${_slow:-?} of $H_SLOW slow messages were at their sink when the last fast one arrived" >> "$S/notes"
  _secs=$(elapsed "$_t0" "$_t1")
  round_result h "$_sys" "$_r" "$_secs" "$_secs" "$(elapsed "$_t0" "$_t_inj")"
}

# (i) One message to I_RCPTS recipients at one.test (smtp-sink -w 1), then
# I_SINGLES one-recipient messages to single@one.test, one after the other
# (the (d) injector, one worker). The clock runs from the big message's
# injection to the last single at the sink (counted in the sink's dump by
# recipient). Preemption lets small mail past a big list.
scn_i() {
  systems=$(usable_systems i $QF_REMOTE)
  [ -n "$systems" ] || return 0
  I_PORT=$(free_port)
  make_message "$S/msg.big" 2048 "list@one.test"
  make_message "$S/msg.single" 2048 "single@one.test"
  i=1; : > "$S/rcpts.i"
  while [ $i -le "$I_RCPTS" ]; do echo "r$i@one.test" >> "$S/rcpts.i"; i=$((i + 1)); done
  chmod 644 "$S/msg.big" "$S/msg.single" "$S/rcpts.i"
  run_rounds nodc i_round
}

i_inject_big() {
  case $1 in
    postfix) $(pf_sendmail_cmd "$PF") -f"$BENCH_SENDER" $(cat "$S/rcpts.i") < "$S/msg.big" ;;
    qfleet) setuidgid "$(qf_client_user)" env $(qf_env "$QF") "$QF_BIN/qmail-inject" -f"$BENCH_SENDER" $(cat "$S/rcpts.i") < "$S/msg.big" ;;
  esac
}

i_round() {
  _sys=$1 _r=$2
  hi_create "$_sys" "one.test:$I_PORT"
  rm -rf "$S/idump"; mkdir "$S/idump"; chown nobody "$S/idump"
  sink_start i "$I_PORT" 0 -w 1 -D "$S/idump/dump"
  _spid=$SINK_PID
  sys_start "$_sys"
  sync
  _t0=$(now)
  interruptible i_inject_big "$_sys" > "$S/inj.err" 2>&1; _irc=$?
  interruptible d_inject "$_sys" "$I_SINGLES" "$S/msg.single" single@one.test 1 > "$S/inj.out" 2>> "$S/inj.err" || _irc=1
  _t_inj=$(now)
  interruptible "$(tool wait-count)" prefix "$S/idump/dump" "X-Rcpt-Args: <single@" "$I_SINGLES" "$(timeout_for "$I_RCPTS")" > "$S/wait.out"; _wrc=$?
  _t1=$(awk '{ print $1 }' "$S/wait.out")
  _big=$(grep -c '^X-Rcpt-Args: <r' "$S/idump/dump" 2>/dev/null || echo 0)
  sys_stop "$_sys"
  sink_stop "$_spid"
  sys_destroy "$_sys"
  if [ "$_irc" != 0 ]; then
    round_fail i "$_sys" "$_r" "injection failed: $(head -c 300 "$S/inj.err")"; return 0
  fi
  if [ "$_wrc" != 0 ]; then
    round_fail i "$_sys" "$_r" "timeout: $(awk '{ print $2 }' "$S/wait.out") of $I_SINGLES singles"; return 0
  fi
  echo "- (i) $_sys round $_r: $_big of $I_RCPTS list recipients were at the sink when the last single arrived" >> "$S/notes"
  _secs=$(elapsed "$_t0" "$_t1")
  round_result i "$_sys" "$_r" "$_secs" "$_secs" "$(elapsed "$_t0" "$_t_inj")"
}
