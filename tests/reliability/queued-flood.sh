# Issue 11, defect 1: a local user floods <queue>/inject.sock (mode 0777) with
# idle connections. Another user's injection must not wait on them: it goes
# through qmail-queued at once (each uid has its own share of the
# connections), and if qmail-queued cannot take it within 2 s, qmail-queue is
# run instead. As root the flood comes from nobody; otherwise from ourselves,
# and then our own injection falls back to qmail-queue within the bound.
. "$(dirname "$0")/../integration/lib.sh"
I=$T/i
new_instance "$I"
start_instance "$I"
sock=$I/queue/inject.sock
[ -S "$sock" ] || fail "no socket"
if is_root; then
  as_flooder="setpriv --reuid=65534 --regid=65534 --clear-groups"
  who=nobody
else
  as_flooder=
  who="ourselves ($(id -un))"
fi
# 1,300 idle connections: more than 4 workers x 256 plus the backlog of 256.
$as_flooder "$HELPERS/queued-probe" hold "$sock" 1300 > "$T/hold" 2>&1 &
F=$!
on_exit stop_pid $F
wait_for 20 grep -q '^holding' "$T/hold" || fail "flooder: $(cat "$T/hold")"
echo "flood by $who: $(cat "$T/hold") of 1300 connect() calls succeeded"
printf 'Subject: flood\nX-Token: flood\n\nthrough the flood\n' > "$T/m"
# The client falls back to the qmail-queue beside its own program file.
mkdir "$T/qbin" && cp "$HELPERS/qq-client" "$T/qbin/" && ln -s "$BIN/qmail-queue" "$T/qbin/qmail-queue" || fail "set up $T/qbin"
chmod -R a+rX "$T/qbin"
out=$(QMAILHOME=$I QUEUEDIR=$I/queue timeout 20 "$T/qbin/qq-client" s@example.org u@test.example < "$T/m")
rc=$?
[ $rc = 124 ] && fail "the injection hung behind the flood (killed after 20 s)"
if is_root; then
  expect_eq "root's injection during nobody's flood" "$out" "0 socket"
else
  case $out in "0 socket"|"0 exec") ;; *) fail "injection during our own flood: $out" ;; esac
fi
timeout 20 sh -c "printf 'Subject: flood2\nX-Token: flood2\n\nqmail-inject\n' |
  QMAILHOME=$I QUEUEDIR=$I/queue '$BIN/qmail-inject' u@test.example" || fail "qmail-inject hung or failed behind the flood"
wait_count 20 "$I/home/Maildir" 2 || fail "not delivered: $(tail -5 "$I/log")"
ok "injection during a flood of 1,300 idle connections by $who: $out; qmail-inject too"
# The idle ones are dropped after 10 s of silence: the flood ends by itself.
# (The flooder keeps its own fds; count the connections qmail-queued holds.)
sleep 12
qd=$(pgrep -P "$(cat "$I/pid")" -x qmail-queued)
server=0
for w in $(pgrep -P "$qd" -x qmail-queued); do
  server=$((server + $(ls -l /proc/$w/fd 2>/dev/null | grep -c socket)))
done
[ "$server" -le 8 ] || fail "qmail-queued still holds $server sockets 12 s after the flood went idle"
ok "idle connections dropped after 10 s ($server sockets left in the workers)"
