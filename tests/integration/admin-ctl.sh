# qmail-qsuper on a live 3-queue instance (qscheduler -s): a dry run changes
# nothing; hold, delete, requeue, release while 1,000 messages flow: nothing
# lost, nothing delivered twice, held mail not delivered until released;
# pause and resume; expire gives a DSN (bouncestyle dsn) that python's email
# module parses; one delay warning; a crashing delivery goes to hold/ as
# poison; a corrupt channel file goes to corrupt/.
. "$(dirname "$0")/lib.sh"
I=$T/i
new_instance "$I"
export QUEUE_COUNT=3
C=$I/control
echo dsn > "$C/bouncestyle"
echo 1s > "$C/minimal_backoff_time"
echo 2s > "$C/maximal_backoff_time"
echo 1s > "$C/queue_run_delay"
echo 3 > "$C/poisonlimit"
# A remote destination that refuses every connection: its mail defers.
port=$(free_port)
echo "down.example:127.0.0.1:$port" > "$C/smtproutes"
# u-poison's delivery kills qmail-local: a crash, not a deferral.
echo '|kill -SEGV $PPID' > "$I/home/.qmail-poison"
start_qscheduler "$I" -s
active3() { [ "$(active_queues "$I")" = 3 ]; }
wait_for 15 active3 || fail "queues not active: $(cat "$I/log")"
Q="env QMAILHOME=$I QUEUE_BASE=$I/base $BIN/qmail-qsuper"
M=$I/home/Maildir
msgs() { cat "$M"/new/* "$M"/cur/* 2>/dev/null; }

# --- held mail while 1,000 messages flow -------------------------------------
$Q -p local > "$T/out" || fail "pause: $(cat "$T/out")"
expect_eq "pause" "$(cat "$T/out")" "local: paused"
expect_eq "paused file" "$(cat "$C/paused")" local
N=1000
inj() {  # inj from to group: messages from..to, every 10th of group hold, every 20th+1 del
  i=$1
  while [ $i -le $2 ]; do
    g=flow
    [ $((i % 10)) = 0 ] && g=hold
    [ $((i % 20)) = 1 ] && g=del
    printf 'Subject: m\nX-Group: %s\nX-Token: t%s\n\nbody\n' $g $i | minject "$I" s@test.example u@test.example || echo "fail $i"
    i=$((i + 1))
  done
}
inj 1 $((N / 2)) > "$T/inj1"
all_in_info() { [ -z "$(find "$I"/base/queue*/todo -type f | head -n 1)" ]; }
wait_for 60 all_in_info || fail "todo-proc did not pre-process"
# Dry run: the queues are unchanged, the would-be count is printed.
# (qmail-send keeps rewriting retry times: only what qmail-qsuper would touch is compared.)
held_and_info() { for q in "$I"/base/queue*; do ls -la "$q/hold"; find "$q/info" "$q/local" -type f | sort; done; }
held_and_info > "$T/snap1"
$Q -n -h -g '^X-Group: hold' > "$T/dry" || fail "dry run: $(cat "$T/dry")"
held_and_info > "$T/snap2"
cmp -s "$T/snap1" "$T/snap2" || fail "dry run changed the queues: $(diff "$T/snap1" "$T/snap2" | head)"
expect_eq "dry run count" "$(grep -c ' would hold$' "$T/dry")" 50
tail -n 1 "$T/dry" | grep -q '^qmail-qsuper: dry run: 50 message(s) would hold in 3 queue(s)$' || fail "dry summary: $(tail -n 1 "$T/dry")"
ok "dry run: 50 would be held, nothing changed"
# The second half flows in while the first is held, deleted and requeued.
inj $((N / 2 + 1)) $N > "$T/inj2" &
injpid=$!
$Q -h -g '^X-Group: hold' > "$T/hold1" || fail "hold: $(cat "$T/hold1")"
expect_eq "held" "$(grep -c ' held$' "$T/hold1")" 50
$Q -d -g '^X-Group: del' > "$T/del1" || fail "delete: $(tail -n 3 "$T/del1")"
$Q -r ALL > "$T/rq1" || fail "requeue: $(tail -n 3 "$T/rq1")"
wait $injpid
cat "$T"/inj? | grep -q fail && fail "injection failed"
wait_for 60 all_in_info || fail "todo-proc did not pre-process"
$Q -h -g '^X-Group: hold' > "$T/hold2" || fail "hold 2: $(cat "$T/hold2")"
$Q -d -g '^X-Group: del' > "$T/del2" || fail "delete 2: $(tail -n 3 "$T/del2")"
held=$(( $(grep -c ' held$' "$T/hold1") + $(grep -c ' held$' "$T/hold2") ))
deleted=$(( $(grep -c ' deleted$' "$T/del1") + $(grep -c ' deleted$' "$T/del2") ))
expect_eq "held in all" $held 100
expect_eq "deleted in all" $deleted 50
expect_eq "hold files" "$(ls "$I"/base/queue*/hold | grep -c '^[0-9]')" 100
head -c 200 "$(ls -d "$I"/base/queue*/hold/* | head -n 1)" | grep -Eq '^[0-9]{10} held by qmail-qsuper$' ||
  fail "hold file format: $(cat "$(ls -d "$I"/base/queue*/hold/* | head -n 1)")"
$Q -P local > "$T/out" || fail "resume"
wait_count 300 "$M" $((N - 150)) || fail "delivered $(maildir_count "$M") of $((N - 150)): $(for q in "$I"/base/queue*; do find "$q/info" "$q/hold" -type f; done | head -n 5 | tr "\n" " ")"
sleep 2  # held mail has had its chance to go wrongly
expect_eq "after resume" "$(maildir_count "$M")" $((N - 150))
msgs | grep -c '^X-Group: hold' | grep -qx 0 || fail "held mail was delivered"
ok "paused, then 100 held and 50 deleted while mail flowed; held mail not delivered"
$Q -H ALL > "$T/rel" || fail "release: $(tail -n 3 "$T/rel")"
expect_eq "released" "$(grep -c ' released$' "$T/rel")" 100
wait_count 120 "$M" $((N - 50)) || fail "after release: delivered $(maildir_count "$M") of $((N - 50))"
expect_eq "each once" "$(msgs | grep '^X-Token: t' | sort -u | wc -l)" $((N - 50))
expect_eq "no duplicates" "$(msgs | grep -c '^X-Token: t')" $((N - 50))
expect_eq "no deleted mail" "$(msgs | grep -c '^X-Group: del')" 0
if ! wait_for 30 base_empty "$I"; then
  f=$(find "$I"/base/queue*/info -type f | head -n 1); id=${f##*/}
  fail "queues not empty: $(find "$I"/base/queue*/info -type f | wc -l) left: $f: $(ls -l "${f%/info/*}"/*/*/$id "${f%/info/*}"/hold/$id 2>&1 | tr '\n' ';') log: $(grep -E "msg $id\b|$id " "$I/log" | tail -n 12 | tr '\n' ';')"
fi
[ -z "$(find "$I"/base/queue*/hold -type f)" ] || fail "hold files left: $(find "$I"/base/queue*/hold -type f)"
ok "released: $((N - 50)) delivered exactly once, no deleted one, queues empty"

# --- expire: a DSN --------------------------------------------------------------
rm -f "$M"/new/* "$M"/cur/*
printf 'Subject: expire me\nX-Token: e1\n\nbody\n' | minject "$I" u@test.example x@down.example || fail "inject"
deferred() { grep -q 'deferral: .*127.0.0.1' "$I/log"; }
wait_for 30 deferred || fail "no deferral: $(tail -n 5 "$I/log")"
$Q -e -D down.example > "$T/exp" || fail "expire: $(cat "$T/exp")"
expect_eq "expired" "$(grep -c ' expired$' "$T/exp")" 1
wait_count 30 "$M" 1 || fail "no bounce: $(tail -n 5 "$I/log")"
python3 - "$(ls -d "$M"/new/* | head -n 1)" <<'EOF' || fail "DSN does not parse as wanted"
import email, sys
m = email.message_from_binary_file(open(sys.argv[1], 'rb'))
assert m.get_content_type() == 'multipart/report', m.get_content_type()
assert m.get_param('report-type') == 'delivery-status'
parts = m.get_payload()
assert [p.get_content_type() for p in parts] == ['text/plain', 'message/delivery-status', 'message/rfc822'], parts
ds = parts[1].get_payload()  # per-message block, then one per recipient
assert ds[0]['Reporting-MTA'] == 'dns; test.example', ds[0]['Reporting-MTA']
assert ds[0]['Arrival-Date'], 'no Arrival-Date'
r = ds[1]
assert r['Final-Recipient'] == 'rfc822; x@down.example', r['Final-Recipient']
assert r['Action'] == 'failed', r['Action']
assert r['Status'] == '4.4.7', r['Status']
assert r['Diagnostic-Code'].startswith('x-qmail; '), r['Diagnostic-Code']
assert 'X-Token: e1' in parts[2].as_string()
EOF
ok "expire: a DSN with Action failed, Status 4.4.7, Final-Recipient, parsed by python's email"

# --- one delay warning -----------------------------------------------------------
rm -f "$M"/new/* "$M"/cur/*
echo 2s > "$C/delay_warning_time"
$Q -P local > /dev/null || fail "reread"  # a P request: qmail-send rereads its settings
printf 'Subject: slow\nX-Token: w1\n\nbody\n' | minject "$I" u@test.example y@down.example || fail "inject"
n_def() { grep -c 'deferral: .*127.0.0.1' "$I/log"; }
d0=$(n_def)
many() { [ $(( $(n_def) - d0 )) -ge 5 ]; }
wait_for 60 many || fail "not retried 5 times: $(tail -n 5 "$I/log")"
wait_count 30 "$M" 1 || fail "no delay warning"
expect_eq "warning lines" "$(grep -c '^delay warning msg' "$I/log")" 1
python3 - "$(ls -d "$M"/new/* | head -n 1)" <<'EOF' || fail "delay warning does not parse as wanted"
import email, sys
m = email.message_from_binary_file(open(sys.argv[1], 'rb'))
ds = m.get_payload()[1].get_payload()
assert ds[1]['Action'] == 'delayed', ds[1]['Action']
assert ds[1]['Final-Recipient'] == 'rfc822; y@down.example'
assert ds[1]['Status'].startswith('4.'), ds[1]['Status']
EOF
$Q -d -D down.example > /dev/null || fail "delete the slow one"
expect_eq "one warning" "$(maildir_count "$M")" 1
ok "one delay warning (Action delayed) after many retries"

# --- poison ------------------------------------------------------------------------
printf 'Subject: poison\n\nbody\n' | minject "$I" s@test.example u-poison@test.example || fail "inject"
poisoned() { grep -q 'warning: poison: msg [0-9]* put on hold: delivery_process_crashed_3_times' "$I/log"; }
wait_for 60 poisoned || fail "not held as poison: $(grep -i 'crash\|poison' "$I/log" | tail -n 5)"
expect_eq "poison lines" "$(grep -c 'warning: poison' "$I/log")" 1
grep -q 'poison: delivery process crashed 3 times' "$I"/base/queue*/hold/* || fail "no poison hold file"
ok "a crashing delivery is held as poison after 3 crashes"
$Q -d ALL > /dev/null || fail "delete poison"

# --- corrupt -------------------------------------------------------------------------
printf 'Subject: corrupt\n\nbody\n' | minject "$I" s@test.example z@down.example || fail "inject"
wait_for 30 sh -c "ls $I/base/queue*/remote/*/* >/dev/null 2>&1" || fail "no remote file"
f=$(ls -d "$I"/base/queue*/remote/*/* | head -n 1)
qd=${f%/remote/*}
$Q -h ALL > /dev/null
printf 'Xgarbage\0' > "$f"
$Q -H ALL > /dev/null
corrupt() { grep -q 'warning: corrupt: moved .* to corrupt/: unknown record type' "$I/log"; }
wait_for 30 corrupt || fail "not moved to corrupt/: $(tail -n 5 "$I/log")"
ls "$qd/corrupt" | grep -q '\.remote$' || fail "no corrupt/N.remote: $(ls "$qd/corrupt")"
ok "a corrupt channel file goes to corrupt/ with one log line"

# --- privileges ----------------------------------------------------------------------
if is_root; then
  out=$(setpriv --reuid=65534 --regid=65534 --clear-groups env QMAILHOME=$I QUEUE_BASE=$I/base "$BIN/qmail-qsuper" -h ALL 2>&1)
  expect_eq "nobody refused" $? 100
  echo "$out" | grep -q 'must run as root or as the owner' || fail "refusal: $out"
  ok "refused to nobody"
fi
stop_qscheduler "$I"
