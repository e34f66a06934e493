# qmail-send's scheduler against real peers (smtp-sink on loopback):
# 1. a slow destination (smtp-sink -w 2) does not delay a fast one's mail;
# 2. a refusing destination is dead after one cohort: no connection until its
#    backoff ends; when it comes back, its mail goes at once, not at its
#    retry time; 3. sendmail -q and qmail-flush -R flush; 4. a corrupt queue
#    file goes to corrupt/ with one log line.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/remote-common"

echo qfleet.test > "$CONTROLDIR/locals"
echo 5 > "$CONTROLDIR/minimal_backoff_time"   # the destination's death, and retries
echo 3600 > "$CONTROLDIR/maximal_backoff_time"
echo yes > "$CONTROLDIR/destination_concurrency_feedback_debug"
slow=$(free_port) fast=$(free_port) down=$(free_port)
start_sink slow "$slow" -c -w 2
start_sink fast "$fast" -c
printf 'slow.example:127.0.0.1:%s\nfast.example:127.0.0.1:%s\ndown.example:127.0.0.1:%s\n' \
  "$slow" "$fast" "$down" > "$CONTROLDIR/smtproutes"

mkdir "$T/bin"
cp "$BIN"/* "$T/bin/"
export QMAILHOME=$T
"$T/bin/qmail-start" ./Mailbox > "$T/log" 2>&1 &
start_pid=$!
stop_start() { kill "$start_pid" 2>/dev/null; wait "$start_pid" 2>/dev/null; return 0; }
on_exit stop_start
wait_for 10 grep -q "status: local 0/" "$T/log" || fail "qmail-send did not start: $(cat "$T/log")"

qq() { # sender rcpt...
  envelope "$@" > "$T/env"
  printf 'Subject: sched\n\nbody\n' | "$BIN/qmail-queue" 1< "$T/env" || fail "qmail-queue exit $?"
}
sink_mesg() { eval "$(counters "$1")"; echo "${mesg:-0}"; }
sink_got() { [ "$(sink_mesg "$1")" -ge "$2" ]; }
count_log() { grep -c -- "$1" "$T/log"; }
at_least() { [ "$(count_log "$1")" -ge "$2" ]; }

# 1. 100 messages to the slow destination, then 30 to the fast one.
i=0; while [ $i -lt 100 ]; do qq s@qfleet.test "s$i@slow.example"; i=$((i + 1)); done
i=0; while [ $i -lt 30 ]; do qq s@qfleet.test "f$i@fast.example"; i=$((i + 1)); done
wait_for 60 sink_got fast 30 || fail "the fast destination got $(sink_mesg fast) of 30: $(tail -n 3 "$T/log")"
at_fast=$(sink_mesg slow)
# 20 connections at 2 s each: the 100 slow messages take 10 s at least.
[ "$at_fast" -lt 100 ] || fail "the fast mail waited for the whole slow backlog ($at_fast slow ones first)"
wait_for 60 sink_got slow 100 || fail "slow destination: $(sink_mesg slow) of 100"
ok "30 fast messages went while $at_fast of 100 slow ones were done"

# 2. A refusing destination: one cohort of connections, then none until its
# backoff ends (5 s, then 10 s, ...).
i=0; while [ $i -lt 40 ]; do qq s@qfleet.test "d$i@down.example"; i=$((i + 1)); done
wait_for 20 at_least "scheduler: remote 127.0.0.1:$down: dead for" 1 ||
  fail "down.example was not marked dead: $(grep scheduler "$T/log" | tail -n 5)"
refused="deferral: Sorry,_I_wasn't_able_to_establish_an_SMTP_connection_to_127.0.0.1"
wait_for 20 at_least 'deferral: delivery_temporarily_suspended:' 35 ||
  fail "only $(count_log delivery_temporarily_suspended) recipients deferred without a connection"
first=$(count_log "$refused")
[ "$first" -le 5 ] || fail "$first connections before the destination died (the initial window is 5)"
ok "refusing destination dead after $first connection attempts; the others deferred without one"

# It comes back: its mail goes once a probe succeeds, long before the
# messages' own retry times (every queue_run_delay, 300 s).
start_sink down "$down" -c
wait_for 40 sink_got down 40 ||
  fail "after it came back: $(sink_mesg down) of 40 delivered: $(grep scheduler "$T/log" | tail -n 5)"
at_least "127.0.0.1:$down: alive: a delivery succeeded" 1 || fail "no revival line: $(grep scheduler "$T/log" | tail -n 5)"
ok "the refusing destination's 40 messages went as soon as it answered"

# 3. sendmail -q: with the retry 300 s away and the destination dead for
# 300 s, only the flush (F A D I) delivers now.
echo 300 > "$CONTROLDIR/minimal_backoff_time"
kill -HUP "$start_pid"
stop_sink down
before=$(sink_mesg down)
i=0; while [ $i -lt 10 ]; do qq s@qfleet.test "q$i@down.example"; i=$((i + 1)); done
wait_for 20 at_least 'msg [0-9]* to remote q[0-9]@down.example' 10 || fail "no attempt at the q messages"
start_sink down "$down" -c
sleep 2
expect_eq "delivered before the flush" "$(sink_mesg down)" 0
QUEUEDIR=$QUEUEDIR "$BIN/sendmail" -q || fail "sendmail -q exit $?"
wait_for 30 sink_got down 10 || fail "sendmail -q: $(sink_mesg down) of 10 delivered"
ok "sendmail -q delivered 10 deferred messages at once"

# qmail-flush -R: one destination.
stop_sink down
i=0; while [ $i -lt 5 ]; do qq s@qfleet.test "r$i@down.example"; i=$((i + 1)); done
wait_for 20 at_least 'msg [0-9]* to remote r[0-9]@down.example' 5 || fail "no attempt at the r messages"
start_sink down "$down" -c
"$BIN/qmail-flush" -R down.example "$QUEUEDIR" || fail "qmail-flush exit $?"
wait_for 30 sink_got down 5 || fail "qmail-flush -R: $(sink_mesg down) of 5 delivered"
# An unknown trigger byte is logged, and nothing else happens.
printf 'Z' > "$QUEUEDIR/lock/trigger"
wait_for 10 at_least 'lock/trigger: ignored unknown request 0x5a' 1 || fail "unknown trigger byte not logged"
ok "qmail-flush -R flushed one destination; an unknown trigger byte is logged and ignored"

# 4. Corrupt files, pre-processed by hand while qmail-send is stopped: a
# remote/N with an unknown record, a remote/N without its message.
stop_start
printf 'Subject: x\n\ny\n' > "$T/m"
split=$(head -n 1 "$TOP/conf-split")
ids=
for r in z1 z2; do
  envelope s@qfleet.test "$r@fast.example" > "$T/env"
  find "$QUEUEDIR/mess" -type f | sort > "$T/b"
  "$BIN/qmail-queue" < "$T/m" 1< "$T/env" || fail qmail-queue
  id=$(find "$QUEUEDIR/mess" -type f | sort | comm -13 "$T/b" - | sed 's,.*/,,')
  [ -n "$id" ] || fail "no new message"
  ids="$ids $id"
  printf 'Fs@qfleet.test\0' > "$QUEUEDIR/info/$((id % split))/$id"
  rm -f "$QUEUEDIR/todo/$id" "$QUEUEDIR/intd/$id"
done
set -- $ids
id1=$1 id2=$2
printf 'Tz1@fast.example\0Xbad\0' > "$QUEUEDIR/remote/$((id1 % split))/$id1"
printf 'Tz2@fast.example\0' > "$QUEUEDIR/remote/$((id2 % split))/$id2"
rm -f "$QUEUEDIR/mess/$((id2 % split))/$id2"
"$T/bin/qmail-start" ./Mailbox >> "$T/log" 2>&1 &
start_pid=$!
on_exit stop_start
s1=$((id1 % split)) s2=$((id2 % split))
wait_for 20 at_least "^warning: corrupt: moved info/$s1/$id1, remote/$s1/$id1 to corrupt/: unknown record type" 1 ||
  fail "corrupt remote/N: $(grep corrupt "$T/log")"
wait_for 20 at_least "^warning: corrupt: moved info/$s2/$id2, remote/$s2/$id2 to corrupt/: channel file without its message" 1 ||
  fail "remote/N without mess/N: $(grep corrupt "$T/log")"
sleep 1
expect_eq "log lines for the corrupt message" "$(count_log "^warning: corrupt: .*/$id1[ ,]")" 1
[ -f "$QUEUEDIR/corrupt/$id1.remote" ] && [ -f "$QUEUEDIR/corrupt/$id1.info" ] || fail "not in corrupt/: $(ls "$QUEUEDIR/corrupt")"
[ ! -e "$QUEUEDIR/remote/$s1/$id1" ] || fail "remote/N still there"
ok "corrupt queue files moved to corrupt/ with one log line each"

# 4b. A corrupt remote/N beside a sound local/N: only remote/N goes aside,
# the local recipient is still tried (and the message's lifetime applies).
stop_start
envelope s@qfleet.test z3@fast.example > "$T/env"
find "$QUEUEDIR/mess" -type f | sort > "$T/b"
"$BIN/qmail-queue" < "$T/m" 1< "$T/env" || fail qmail-queue
id3=$(find "$QUEUEDIR/mess" -type f | sort | comm -13 "$T/b" - | sed 's,.*/,,')
[ -n "$id3" ] || fail "no new message"
s3=$((id3 % split))
printf 'Fs@qfleet.test\0' > "$QUEUEDIR/info/$s3/$id3"
rm -f "$QUEUEDIR/todo/$id3" "$QUEUEDIR/intd/$id3"
printf 'Tz3@fast.example\0Xbad\0' > "$QUEUEDIR/remote/$s3/$id3"
printf 'Tnosuchuser@qfleet.test\0' > "$QUEUEDIR/local/$s3/$id3"
"$T/bin/qmail-start" ./Mailbox >> "$T/log" 2>&1 &
start_pid=$!
on_exit stop_start
wait_for 20 at_least "^warning: corrupt: moved remote/$s3/$id3 to corrupt/: unknown record type in remote/$s3/$id3; local/$s3/$id3 goes on" 1 ||
  fail "corrupt remote/N beside local/N: $(grep corrupt "$T/log" | tail -n 3)"
wait_for 20 at_least "msg $id3 to local nosuchuser@qfleet.test" 1 ||
  fail "the local recipient was not tried: $(grep "$id3" "$T/log" | tail -n 5)"
[ -f "$QUEUEDIR/corrupt/$id3.remote" ] || fail "no corrupt/$id3.remote: $(ls "$QUEUEDIR/corrupt")"
[ ! -e "$QUEUEDIR/corrupt/$id3.info" ] || fail "info/N went to corrupt/ too"
ok "a corrupt remote/N beside a sound local/N: only remote/N goes aside, the local recipient is tried"
