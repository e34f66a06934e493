# The visibility tools on a live instance of 3 queues under qscheduler
# (privilege-separated when run as root, embedded otherwise): mail deferred by a smtp-sink that answers 4xx to
# RCPT, a held message (hold/N made here, as the hold tool would), a message
# still in todo/, a corrupt one. qmail-qread (and mailq, sendmail -bp) lists
# each once with its recipients and their last status text; qmail-qstat,
# qmail-qshape and qmonitor -p agree with the queue; qmail-showctl shows a
# value set and a default.
. "$(dirname "$0")/lib.sh"
[ -x /usr/sbin/smtp-sink ] || skip "no /usr/sbin/smtp-sink (Debian package postfix)"
command -v python3 >/dev/null || skip "no python3"
I=$T/i
new_instance "$I"
port=$(free_port)
echo ":127.0.0.1:$port" > "$I/control/smtproutes"
echo 7 > "$I/control/concurrencyremote"
sink_user=; is_root && sink_user="-u nobody"
/usr/sbin/smtp-sink $sink_user -r RCPT "127.0.0.1:$port" 100 > "$T/sink.out" 2>&1 &
echo $! > "$T/sink.pid"
on_exit stop_pidfile "$T/sink.pid"
wait_for 10 sh -c "ss -Htln 'sport = :$port' | grep -q ." || fail "smtp-sink did not start"

export QUEUE_COUNT=3
if is_root; then
  # Privilege-separated: every daemon under its own uid, the queues owned by
  # qmailq and qmails as queue-fix makes them for root.
  chmod -R a+rX "$I"
  QMAILHOME=$I QUEUE_BASE=$I/base setsid "$BIN/qscheduler" -s ./Maildir/ > "$I/log" 2>&1 &
  echo $! > "$I/qspid"
  on_exit stop_pidfile "$I/qspid"
else
  start_qscheduler "$I" -s
fi
active3() { [ "$(active_queues "$I")" = 3 ]; }
wait_for 15 active3 || fail "queues not active: $(cat "$I/log")"
B=$I/base
ENV="QMAILHOME=$I QUEUE_BASE=$B"
admin() { env QMAILHOME="$I" QUEUE_BASE="$B" "$@"; }

# qinject n sender rcpt...: into queue n itself; prints the new message's id.
qinject() {
  _q=$B/queue$1; shift
  find "$_q/mess" -type f | sort > "$T/before"
  envelope "$@" > "$T/env"
  # As root, as the installed setuid qmail-queue would: mess/N owned by qmailq.
  _as=; is_root && _as="setpriv --reuid=$(sed -n 6p "$TOP/conf-users") --regid=$(sed -n 1p "$TOP/conf-groups") --clear-groups"
  printf 'Subject: v\n\nbody\n' | QUEUEDIR=$_q $_as "$BIN/qmail-queue" 1< "$T/env" || fail "qmail-queue into $_q"
  find "$_q/mess" -type f | sort | comm -13 "$T/before" - | sed 's,.*/,,'
}
ids=
for n in 1 2 3; do
  a=$(qinject $n "s$n@sender.example" "a$n@far.example" "b$n@far.example")
  b=$(qinject $n "" "c$n@other.example")
  eval "a$n=$a b$n=$b"
  ids="$ids $a $b"
done
# Every recipient has been tried and deferred once: 9 statuses.
tried() { [ "$(admin "$BIN/qmail-qread" | grep -c 'last attempt .* ago: ')" = 9 ]; }
wait_for 60 tried || fail "not every recipient deferred: $(admin "$BIN/qmail-qread"; tail -5 "$I/log")"
if is_root; then
  expect_eq "defer/N owner" "$(stat -c %U "$(find "$B/queue1/defer" -type f | head -n 1)")" "$(sed -n 8p "$TOP/conf-users")"
  pgrep -u "$(sed -n 8p "$TOP/conf-users")" -x qmail-send > /dev/null || fail "qmail-send does not run as qmails"
fi
ok "6 messages over 3 queues deferred by a 4xx smtp-sink"

# Held: hold/N, as the hold tool writes it (qmail-qread only reads it).
touch "$B/queue2/hold/$a2"

# Metrics while qmail-send publishes: every line parses; 3 queues up.
# qmail-send publishes once a second: wait until every deferral is counted.
published() {
  admin "$BIN/qmonitor" -p > "$T/prom" || return 1
  for _n in 1 2 3; do
    _v=$(sed -n "s/^qfleet_channel_recipients_total{queue=\"$_n\",channel=\"remote\",result=\"deferred\"} //p" "$T/prom")
    [ "${_v:-0}" -ge 3 ] || return 1
  done
}
wait_for 10 published || fail "deferrals not published: $(grep recipients_total "$T/prom")"
check_prom() {
  python3 - "$1" <<'PY' || fail "qmonitor -p output does not parse: $(cat "$1")"
import re, sys
pat = re.compile(r'^[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_][a-zA-Z0-9_]*="[^"\\]*"(,|(?=\})))*\})? -?[0-9.e+]+$')
n = 0
for line in open(sys.argv[1]):
    line = line.rstrip('\n')
    if line.startswith('#'):
        continue
    if not pat.match(line):
        print("bad line:", line); sys.exit(1)
    n += 1
sys.exit(0 if n > 0 else 1)
PY
}
check_prom "$T/prom"
expect_eq "queues up" "$(grep -c '^qfleet_send_up{queue="[123]"} 1$' "$T/prom")" 3
expect_eq "concurrency published" "$(grep -c '^qfleet_channel_concurrency_limit{queue="[123]",channel="remote"} 7$' "$T/prom")" 3
expect_eq "held, live" "$(grep '^qfleet_queue_messages{queue="2",state="hold"}' "$T/prom")" 'qfleet_queue_messages{queue="2",state="hold"} 1'
ok "qmonitor -p parses, with live figures of 3 queues"

stop_qscheduler "$I"
# Still in todo/: injected with every daemon stopped.
t1=$(qinject 1 "new@sender.example" "n1@far.example" "u@test.example")
# Corrupt: qmail-send's own move, by hand (info and remote to corrupt/).
split=$(ls "$B/queue3/mess" | wc -l)
mv "$B/queue3/info/$((b3 % split))/$b3" "$B/queue3/corrupt/$b3.info"
mv "$B/queue3/remote/$((b3 % split))/$b3" "$B/queue3/corrupt/$b3.remote"

admin "$BIN/qmail-qread" > "$T/qread" || fail "qmail-qread exit $?"
for id in $ids $t1; do
  expect_eq "message $id listed" "$(grep -c "^[0-9].* GMT  #$id  " "$T/qread")" 1
done
expect_eq "messages listed" "$(grep -c ' GMT  #' "$T/qread")" 7
# msg id: its block (the header line and what follows up to the next message)
msg() { awk -v id="$1" '/ GMT  #/ { on = index($0, "#" id "  ") > 0 } on' "$T/qread"; }
for n in 1 2 3; do
  eval "a=\$a$n"
  msg "$a" | grep -q "<s$n@sender.example>  queue$n  age " || fail "header of $a: $(msg "$a")"
  for r in a$n@far.example b$n@far.example; do
    msg "$a" | grep -A1 "^	remote	$r\$" | grep -q "^		last attempt [0-9]*[smh].* ago: .*450" ||
      fail "recipient $r of $a without its 4xx status: $(msg "$a")"
  done
done
msg "$b1" | grep -q '<>  queue1 ' || fail "null sender: $(msg "$b1")"
msg "$a2" | head -1 | grep -q '  held' || fail "held not marked: $(msg "$a2")"
msg "$a1" | head -1 | grep -q '  held' && fail "a1 marked held"
msg "$t1" | head -1 | grep -q '  todo' || fail "todo not marked: $(msg "$t1")"
expect_eq "todo recipients" "$(msg "$t1" | grep -c '^	new	')" 2
msg "$b3" | head -1 | grep -q '  corrupt (info remote)' || fail "corrupt not marked: $(msg "$b3")"
expect_eq "recipient lines" "$(grep -c '^	[a-z][a-z]*	' "$T/qread")" 10
ok "qmail-qread lists every message once, with recipients, statuses, held, todo, corrupt"

# -m: one line per recipient; mailq and sendmail -bp print what qmail-qread does.
admin "$BIN/qmail-qread" -m > "$T/lines" || fail "qmail-qread -m"
expect_eq "-m lines" "$(wc -l < "$T/lines")" 11   # 10 recipients + the corrupt message
expect_eq "-m fields" "$(awk -F'\t' 'NF != 10' "$T/lines" | wc -l)" 0
expect_eq "-m held" "$(awk -F'\t' -v id="$a2" '$2 == id && $3 == "hold"' "$T/lines" | wc -l)" 2
expect_eq "-m deferred" "$(awk -F'\t' '$3 == "deferred" && $10 ~ /450/' "$T/lines" | wc -l)" 6
ln -s "$BIN/qmail-qread" "$T/mailq"
admin "$T/mailq" | sed 's/  age [0-9a-z]*//; s/last attempt [0-9a-z]* ago/last attempt/; s/retry in [0-9a-z]*//' > "$T/m1"
sed 's/  age [0-9a-z]*//; s/last attempt [0-9a-z]* ago/last attempt/; s/retry in [0-9a-z]*//' "$T/qread" > "$T/m0"
admin "$BIN/sendmail" -bp | sed 's/  age [0-9a-z]*//; s/last attempt [0-9a-z]* ago/last attempt/; s/retry in [0-9a-z]*//' > "$T/m2"
cmp -s "$T/m0" "$T/m1" && cmp -s "$T/m0" "$T/m2" || fail "mailq or sendmail -bp differ: $(diff "$T/m0" "$T/m2")"
ok "qmail-qread -m, mailq and sendmail -bp"

# qmail-qstat: mess/ and todo/ files, per queue and in all.
admin "$BIN/qmail-qstat" > "$T/qstat" || fail "qmail-qstat"
tot=0
for n in 1 2 3; do
  m=$(find "$B/queue$n/mess" -type f | wc -l); tot=$((tot + m))
  td=$(find "$B/queue$n/todo" -type f | wc -l)
  grep -qx "queue$n: messages in queue: $m" "$T/qstat" || fail "qstat queue $n ($m): $(cat "$T/qstat")"
  grep -qx "queue$n: messages in queue but not yet preprocessed: $td" "$T/qstat" || fail "qstat todo $n: $(cat "$T/qstat")"
done
expect_eq "qstat total" "$(grep '^messages in queue:' "$T/qstat")" "messages in queue: $tot"
expect_eq "qstat todo" "$(grep '^messages in queue but' "$T/qstat")" "messages in queue but not yet preprocessed: 1"
expect_eq "total" $tot 7
ok "qmail-qstat counts"

# qmail-qshape: per state, TOTAL and domains match the queue.
shape() { admin "$BIN/qmail-qshape" "$@" || fail "qmail-qshape $*"; }
row() { awk -v n="$1" '$1 == n { print $2 }'; }
expect_eq "deferred TOTAL" "$(shape deferred | row TOTAL)" 4
expect_eq "deferred far.example" "$(shape deferred | row far.example)" 2
expect_eq "deferred other.example" "$(shape deferred | row other.example)" 2
expect_eq "hold TOTAL" "$(shape hold | row TOTAL)" 1
expect_eq "incoming TOTAL" "$(shape incoming | row TOTAL)" 1
expect_eq "incoming test.example" "$(shape incoming | row test.example)" 1
expect_eq "corrupt TOTAL" "$(shape corrupt | row TOTAL)" 1
expect_eq "senders" "$(shape -s deferred hold | row MAILER-DAEMON)" 2
expect_eq "top 1" "$(shape -n 1 deferred | wc -l)" 3
shape deferred | head -1 | grep -q '^ *T 5 10 20 40 80 160 320 640 1280 1280+$' || fail "header: $(shape deferred | head -1)"
# Everything is younger than 5 minutes: T equals the first bucket.
expect_eq "young" "$(shape deferred | awk '$1 == "TOTAL" { print ($2 == $3) }')" 1
ok "qmail-qshape by state, domain and sender"

admin "$BIN/qmonitor" -p > "$T/prom2" || fail "qmonitor -p, stopped"
check_prom "$T/prom2"
expect_eq "deferred, stopped" "$(grep -c '^qfleet_queue_messages{queue="[123]",state="deferred"} ' "$T/prom2")" 3
expect_eq "incoming q1" "$(grep '^qfleet_queue_messages{queue="1",state="incoming"}' "$T/prom2")" 'qfleet_queue_messages{queue="1",state="incoming"} 1'
expect_eq "up, stopped" "$(grep -c '^qfleet_send_up{queue="[123]"} 0$' "$T/prom2")" 3
ok "qmonitor -p from the disk alone"

admin "$BIN/qmail-showctl" > "$T/ctl" || fail "qmail-showctl"
grep -qx 'concurrencyremote: set 7  (default 100; read by qmail-send)' "$T/ctl" || fail "set value: $(grep concurrencyremote "$T/ctl")"
grep -q '^concurrencylocal: default 10  (read by qmail-send)$' "$T/ctl" || fail "default: $(grep concurrencylocal "$T/ctl")"
grep -q "^smtproutes: set 1 line\$" "$T/ctl" || fail "list: $(grep -A2 smtproutes "$T/ctl")"
ok "qmail-showctl"
