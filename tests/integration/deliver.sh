# One queue end to end (embedded mode): qmail-queue -> todo-proc -> qmail-send ->
# qmail-lspawn -> Maildir, byte-exact; 1,000 messages; a 50 MB message; .qmail
# forward, |program and mbox; bounce, double bounce, triple bounce; an
# unwritable Maildir defers and delivers exactly once after the fix.
. "$(dirname "$0")/lib.sh"
I=$T/i
new_instance "$I"
echo u > "$I/control/doublebounceto"
start_instance "$I"
M=$I/home/Maildir

# 1. One message, byte-exact after Return-Path, Delivered-To and Received.
printf 'Subject: one\n\nhello\r\nbinary \001\002 and NUL follow\n' > "$T/m1"
printf '\000\000end' >> "$T/m1"
inject "$I" s@example.org u@test.example < "$T/m1" || fail inject
wait_count 10 "$M" 1 || fail "not delivered: $(tail "$I/log")"
f=$(ls "$M"/new/*)
sed -n 1p "$f" | grep -qx 'Return-Path: <s@example.org>' || fail "Return-Path: $(sed -n 1p "$f")"
sed -n 2p "$f" | grep -qx 'Delivered-To: u@test.example' || fail "Delivered-To: $(sed -n 2p "$f")"
sed -n 3p "$f" | grep -q '^Received: (qmail ' || fail "Received: $(sed -n 3p "$f")"
tail -n +4 "$f" | cmp -s - "$T/m1" || fail "message bytes differ"
grep -q '^delivery 1: success: did_1+0+0/$' "$I/log" || fail "log: $(cat "$I/log")"
grep -q '^end msg ' "$I/log" || fail "no end msg"
wait_for 5 queue_empty "$I" || fail "queue not empty"
ok "one message, byte-exact, queue emptied"

# 2. 1,000 messages from 4 parallel injectors, each delivered once.
rm -f "$M"/new/*
pids=
for k in 1 2 3 4; do
  ( i=$k; while [ $i -le 1000 ]; do
      printf 'Subject: bulk\nX-Token: t%s\n\nbody %s\n' $i $i | inject "$I" s@example.org u@test.example || echo "fail $i"
      i=$((i + 4)); done ) > "$T/inj$k" &
  pids="$pids $!"
done
wait $pids   # not a bare wait: qmail-start is a child of this shell too
cat "$T"/inj? | grep -q fail && fail "injection failed"
wait_count 120 "$M" 1000 || fail "delivered $(maildir_count "$M") of 1000"
expect_eq "distinct tokens" "$(cat "$M"/new/* | grep -c '^X-Token: t')" 1000
expect_eq "each once" "$(cat "$M"/new/* | grep '^X-Token: t' | sort -u | wc -l)" 1000
wait_for 10 queue_empty "$I" || fail "queue not empty after 1000"
ok "1,000 messages, each delivered once"

# 3. 50 MB.
rm -f "$M"/new/*
head -c 50000000 /dev/urandom | od -An -tx1 -v | head -c 50000000 > "$T/big"
inject "$I" s@example.org u@test.example < "$T/big" || fail "inject 50 MB"
wait_count 60 "$M" 1 || fail "50 MB not delivered"
expect_eq "50 MB byte-exact" "$(tail -n +4 "$M"/new/* | sha256sum)" "$(sha256sum < "$T/big")"
rm -f "$M"/new/* "$T/big"
ok "50 MB message byte-exact"

# 4. .qmail forward, |program, mbox.
mkdir -p "$I/home/Maildir2/new" "$I/home/Maildir2/cur" "$I/home/Maildir2/tmp"
echo "&u-two@test.example" > "$I/home/.qmail-fwd"
echo "./Maildir2/" > "$I/home/.qmail-two"
echo '|{ echo "$SENDER $RECIPIENT $EXT"; cat; } > "$HOME/prog.out"' > "$I/home/.qmail-prog"
echo "./mbox" > "$I/home/.qmail-box"
chmod 644 "$I"/home/.qmail-*
printf 'Subject: fwd\n\nforwarded\n' | inject "$I" s@example.org u-fwd@test.example || fail inject
printf 'Subject: prog\n\nto a program\n' | inject "$I" s@example.org u-prog@test.example || fail inject
printf 'Subject: mbox\n\nFrom me\nto an mbox\n' | inject "$I" s@example.org u-box@test.example || fail inject
wait_count 15 "$I/home/Maildir2" 1 || fail "forward not delivered: $(tail "$I/log")"
grep -q '^Delivered-To: u-fwd@test.example' "$I"/home/Maildir2/new/* || fail "forward lacks the first Delivered-To"
wait_for 10 test -s "$I/home/prog.out" || fail "program did not run"
sed -n 1p "$I/home/prog.out" | grep -qx 's@example.org u-prog@test.example prog' || fail "program env: $(sed -n 1p "$I/home/prog.out")"
grep -qx 'to a program' "$I/home/prog.out" || fail "program input"
wait_for 10 test -s "$I/home/mbox" || fail "mbox not written"
head -n 1 "$I/home/mbox" | grep -q '^From s@example.org ' || fail "mbox From_ line"
grep -qx '>From me' "$I/home/mbox" || fail "mbox quoting"
ok ".qmail forward, |program, mbox"

# 5. Bounce for an unknown address, its double bounce, the triple bounce.
rm -f "$M"/new/*
printf 'Subject: to nobody\n\nlost\n' | inject "$I" u@test.example u-nosuch@test.example || fail inject
wait_count 15 "$M" 1 || fail "no bounce: $(tail "$I/log")"
b=$(ls "$M"/new/*)
grep -q '^Return-Path: <>$' "$b" || fail "bounce sender not null"
grep -q '^Subject: failure notice$' "$b" || fail "bounce subject"
grep -q '^<u-nosuch@test.example>:$' "$b" || fail "bounce recipient line: $(cat "$b")"
grep -q 'Sorry, no mailbox here by that name. (#5.1.1)' "$b" || fail "bounce reason"
grep -q '^--- Below this line is a copy of the message.$' "$b" || fail "bounce copy line"
grep -q '^lost$' "$b" || fail "bounce lacks the original"
grep -q '^bounce msg [0-9]* qp [0-9]*$' "$I/log" || fail "no bounce msg line"
rm -f "$M"/new/*
# A bounce (null sender) that fails: double bounce to doublebounceto (u).
printf 'Subject: a bounce\n\nbounced\n' | inject "$I" "" u-nosuch@test.example || fail inject
wait_count 15 "$M" 1 || fail "no double bounce: $(tail "$I/log")"
d=$(ls "$M"/new/*)
grep -q '^Return-Path: <#@\[\]>$' "$d" || fail "double bounce sender: $(head -3 "$d")"
grep -q 'but the bounce bounced' "$d" || fail "double bounce text"
rm -f "$M"/new/*
# A double bounce that fails is discarded with a log line.
printf 'Subject: dbl\n\nx\n' | inject "$I" "#@[]" u-nosuch@test.example || fail inject
wait_for 15 grep -q '^triple bounce: discarding bounce/' "$I/log" || fail "no triple bounce line"
sleep 1
expect_eq "nothing delivered for a triple bounce" "$(maildir_count "$M")" 0
wait_for 10 queue_empty "$I" || fail "queue not empty after bounces"
ok "bounce, double bounce, triple bounce"

# 6. An unusable Maildir defers; after the fix, ALRM delivers exactly once.
rm -rf "$M/tmp"; echo x > "$M/tmp"
printf 'Subject: later\nX-Token: later\n\nwait\n' | inject "$I" s@example.org u@test.example || fail inject
wait_for 15 grep -q 'deferral: .*' "$I/log" || fail "no deferral"
expect_eq "not delivered while broken" "$(maildir_count "$M")" 0
rm -f "$M/tmp"; mkdir "$M/tmp"
kill -ALRM "$(cat "$I/pid")"
wait_count 15 "$M" 1 || fail "not delivered after the fix"
sleep 1
expect_eq "exactly once" "$(cat "$M"/new/* | grep -c '^X-Token: later')" 1
ok "unusable Maildir deferred, then delivered once"

stop_instance "$I"
grep -q '^status: exiting$' "$I/log" || fail "no status: exiting"
! grep -q '^alert:' "$I/log" || fail "alerts in a fault-free run: $(grep '^alert:' "$I/log")"
ok "clean stop, no alerts"
