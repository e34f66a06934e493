# qmail-local's |program lines: the qmail-command(8) environment, the message
# on fd 0 from its start, only fds 0-2, output in the report, exit-code
# semantics, and timeoutlocal killing the whole process group.
. "$(dirname "$0")/lib.sh"
export CONTROLDIR=$T/control
mkdir -p "$CONTROLDIR"
H=$T/home
mkdir -m 755 "$H"
printf 'Subject: prog\n\nline 1\nline 2\n' > "$T/msg"
# run ext [sender]: deliver to joe-ext@mail.example.co.uk
run() { "$BIN/qmail-local" -- joe "$H" "Joe-$1" - "$1" mail.example.co.uk "${2-s@x.example}" ./Maildir/ < "$T/msg"; }

# 1. The environment, the working directory and the message, twice from its start.
cat > "$H/.qmail-env-default" <<'EOF'
|for v in USER HOME LOCAL HOST SENDER NEWSENDER RECIPIENT DTLINE RPLINE EXT EXT2 EXT3 EXT4 DEFAULT HOST2 HOST3 HOST4; do eval "printf '%s=%s;' $v \"\$$v\""; done > env; pwd > cwd
|cat > msg1
|cat > msg2
EOF
out=$(DEFAULT=inherited EXT=stale run env-A-b); rc=$?
expect_eq "env run" "$rc:$out" "0:did 0+0+3"
expect_eq "environment" "$(cat "$H/env")" "USER=joe;HOME=$H;LOCAL=Joe-env-A-b;HOST=mail.example.co.uk;SENDER=s@x.example;NEWSENDER=s@x.example;RECIPIENT=Joe-env-A-b@mail.example.co.uk;DTLINE=Delivered-To: Joe-env-A-b@mail.example.co.uk
;RPLINE=Return-Path: <s@x.example>
;EXT=env-A-b;EXT2=A-b;EXT3=b;EXT4=;DEFAULT=A-b;HOST2=mail.example.co;HOST3=mail.example;HOST4=mail;"
expect_eq "cwd" "$(cat "$H/cwd")" "$H"
cmp -s "$H/msg1" "$T/msg" || fail "first program did not get the message"
cmp -s "$H/msg2" "$T/msg" || fail "second program did not get the message from its start"
echo '|printf "%s" "$UFLINE" > ufline' > "$H/.qmail-uf"
run uf '' > /dev/null
grep -Eq '^From MAILER-DAEMON [A-Z][a-z]{2} [A-Z][a-z]{2} [0-9]{2} [0-9:]{8} [0-9]{4}$' "$H/ufline" || fail "UFLINE: $(cat "$H/ufline")"
ok "environment, cwd, message from offset 0"

# 2. Only fds 0, 1 and 2; stdout and stderr in the report.
cat > "$H/.qmail-fds" <<'EOF'
|ls -l /proc/self/fd > fds; echo to-stdout; echo to-stderr >&2
EOF
out=$(run fds 3>/dev/null 4>/dev/null 7</dev/null); rc=$?
expect_eq "fds" "$rc:$out" "0:to-stdout
to-stderr
did 0+0+1"
# ls's own directory handle aside, and fd 1 being the file it writes to.
expect_eq "the program's descriptors" \
  "$(grep -v ' -> /proc/[0-9]*/fd$' "$H/fds" | awk 'NF > 8 {print $9}' | tr '\n' ' ')" "0 1 2 "
grep -q " 0 -> $T/msg\$" "$H/fds" || fail "fd 0 is not the message: $(cat "$H/fds")"
ok "only fds 0-2; output in the report"

# 3. Exit codes.
for pair in 0:0 99:0 100:100 64:100 65:100 70:100 76:100 77:100 78:100 112:100 1:111 75:111 111:111 2:111 126:111; do
  code=${pair%:*} want=${pair#*:}
  echo "|exit $code" > "$H/.qmail-exit"
  out=$(run exit); expect_eq "exit $code" $? "$want"
done
echo '|echo bye; exit 100' > "$H/.qmail-exit"
out=$(run exit); expect_eq "permanent with output" "$?:$out" "100:bye"
echo '|exit 111' > "$H/.qmail-exit"
out=$(run exit); expect_eq "temporary without output" "$?:$out" "111:Program exited 111. (#4.3.0)"
echo '|kill -SEGV $$' > "$H/.qmail-crash"
out=$(run crash); expect_eq "crash" "$?:$out" "111:Aack, child crashed. (#4.3.0)"
echo '|/nonexistent/prog' > "$H/.qmail-noprog"
out=$(run noprog); expect_eq "missing program" $? 111
ok "exit codes: 0/99 ok, 100 and sysexits permanent, the rest and crashes temporary"

# 4. A program that outlives timeoutlocal is killed with its whole group.
echo 2 > "$CONTROLDIR/timeoutlocal"
mark=31$$
echo "|sleep 1$mark & sleep 2$mark; echo never" > "$H/.qmail-slow"
out=$(run slow); rc=$?
expect_eq "timeout exit" $rc 111
expect_eq "timeout text" "$out" "Timeout: program still running after 2 seconds; killed. (#4.3.0)"
sleep 0.2
pgrep -f "sleep [12]$mark" > /dev/null && fail "processes of the timed-out program are still running"
# A background process that keeps the output open keeps the delivery going:
# the deadline kills it with the group.
echo "|sleep 3$mark & exit 0" > "$H/.qmail-bg"
out=$(run bg); expect_eq "background child holding stdout" "$?:$out" "111:Timeout: program still running after 2 seconds; killed. (#4.3.0)"
sleep 0.2
pgrep -f "sleep 3$mark" > /dev/null && fail "the background process survived the deadline"
# One that lets go of the output is its own business, as in qmail.
echo "|sleep 4$mark > /dev/null 2>&1 < /dev/null &" > "$H/.qmail-daemon"
out=$(run daemon); expect_eq "background child, output closed" "$?:$out" "0:did 0+0+1"
pkill -f "sleep 4$mark" || fail "a background process was killed after success"
rm -f "$CONTROLDIR/timeoutlocal"
echo 0 > "$CONTROLDIR/timeoutlocal"
out=$(run bg); expect_eq "bad timeoutlocal" $? 111
rm -f "$CONTROLDIR/timeoutlocal"
ok "timeoutlocal kills the process group; a background process may outlive a success"

# 5. Large output is capped.
cat > "$H/.qmail-loud" <<'EOF'
|head -c 100000 /dev/zero | tr '\000' x; exit 100
EOF
out=$(run loud); rc=$?
expect_eq "loud exit" $rc 100
n=$(printf '%s' "$out" | wc -c)
[ "$n" -le 10100 ] || fail "report of $n bytes"
echo "$out" | grep -q "program output truncated" || fail "no truncation note"
ok "output capped"
exit 0
