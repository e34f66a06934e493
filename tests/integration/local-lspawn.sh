# qmail-lspawn driven through its protocol (tests/helpers/spawn-drive):
# users/assign mapping to temporary homes of our own uid, several recipients
# per command, deliveries in parallel, refusals of bad messages and slots,
# crashes, and a clean exit at end of input. As root it runs embedded
# (QFLEET_EMBEDDED=1); local-lspawn-root covers real user switching.
. "$(dirname "$0")/lib.sh"
export CONTROLDIR=$T/control QMAILHOME=$T/qh
mkdir -p "$CONTROLDIR" "$QMAILHOME/users"
Q=$T/queue
mkqueue "$Q" -s 7
export QUEUEDIR=$Q CONFSPLIT=7
is_root && export QFLEET_EMBEDDED=1
uid=$(id -u) gid=$(id -g) me=$(id -un)
for h in h1 h2 h3; do mkdir -m 755 "$T/$h"; mkdir -p "$T/$h/Maildir/tmp" "$T/$h/Maildir/new" "$T/$h/Maildir/cur"; done
cat > "$QMAILHOME/users/assign" <<EOF
=alice:$me:$uid:$gid:$T/h1:::
=bob:$me:$uid:$gid:$T/h2:::
+bob-:$me:$uid:$gid:$T/h2:-::
=other:someone:$((uid + 1)):$gid:$T/h2:::
+weird-:$me:$uid:$gid:$T/h3:-::
.
EOF
envelope s@x r@y > "$T/env"
inject() { # prints the id of a fresh message
  printf 'Subject: lspawn %s\n\nbody\n' "$1" | "$BIN/qmail-queue" 1< "$T/env" || fail "qmail-queue"
  ls -t "$Q"/mess/*/* | head -n 1 | xargs basename
}
drive() { "$HELPERS/spawn-drive" "$@" "$BIN/qmail-lspawn" ./Maildir/ 2> "$T/lspawn.err"; }
TAB=$(printf '\t')
line() { (IFS=$TAB; echo "$*"); }
want_line() { # output pattern what
  printf "%s\n" "$1" | grep -qx "$2" || fail "$3: no line '$2' in: $1"
}

id=$(inject one)
# 1. One command, many recipients, each settled in order.
out=$(line 0 "$id" s@x.example alice@Example.COM bob@example.com bob-nothing@example.com noat @example.com other@example.com | drive)
want_line "$out" "slots 500" "slot count"
want_line "$out" "0 0 K did 1+0+0\\\\n" "alice"
want_line "$out" "0 1 K did 1+0+0\\\\n" "bob"
want_line "$out" "0 2 D Sorry, no mailbox here by that name. (#5.1.1)\\\\n" "bob-nothing"
want_line "$out" "0 3 D Sorry, address must include host name. (#5.1.3)\\\\n" "noat"
want_line "$out" "0 4 K .*" "empty local part"
want_line "$out" "0 5 Z cannot switch to user someone: qfleet runs unprivileged (#4.3.0)\\\\n" "other uid"
want_line "$out" "exit 0" "exit"
f=$(ls "$T/h1/Maildir/new")
sed -n 2p "$T/h1/Maildir/new/$f" | grep -qx "Delivered-To: alice@Example.COM" || fail "alice's Delivered-To"
sed -n 1p "$T/h1/Maildir/new/$f" | grep -qx "Return-Path: <s@x.example>" || fail "alice's Return-Path"
grep -q "embedded mode" "$T/lspawn.err" || fail "no embedded-mode notice: $(cat "$T/lspawn.err")"
ok "one command, six recipients: K K D D K Z"

# 2. Deliveries run in parallel: each waits until all three have started.
cat > "$T/h2/.qmail-c-default" <<'EOF'
|touch "started.$DEFAULT"; n=0; while [ "$(ls | grep -c '^started\.')" -lt 3 ]; do n=$((n + 1)); [ $n -gt 400 ] && exit 111; sleep 0.05; done; echo "together $DEFAULT"
EOF
out=$({ line 1 "$id" s@x bob-c-1@x; line 2 "$id" s@x bob-c-2@x; line 3 "$id" s@x bob-c-3@x; } | drive)
for n in 1 2 3; do want_line "$out" "$n 0 K together $n\\\\ndid 0+0+1\\\\n" "parallel $n"; done
want_line "$out" "exit 0" "exit after in-flight deliveries"
ok "three deliveries at once; end of input waits for them"

# 3. Bad messages: missing, a symbolic link, a name that is not the inode.
id2=$(inject two)
m2=$(ls "$Q"/mess/*/"$id2")
ln -s "$m2" "$Q/mess/$(( (id2 + 1) % 7 ))/$((id2 + 1))"
# A copy planted under a number that is certainly not its inode.
cp "$m2" "$Q/pid/plant"
pn=$(( $(stat -c %i "$Q/pid/plant") + 1000 ))
mv "$Q/pid/plant" "$Q/mess/$(( pn % 7 ))/$pn"
out=$({ line 0 999999999 s@x alice@x; line 1 $((id2 + 1)) s@x alice@x bob@x; line 2 $pn s@x alice@x; } | drive)
want_line "$out" "0 0 Z Unable to open message: No such file or directory. (#4.3.0)\\\\n" "missing message"
want_line "$out" "1 0 Z Sorry, message is a symbolic link. (#4.3.5)\\\\n" "symlinked message"
want_line "$out" "1 1 Z Sorry, message is a symbolic link. (#4.3.5)\\\\n" "symlinked message, 2nd recipient"
want_line "$out" "2 0 Z Sorry, message has wrong inode number. (#4.3.5)\\\\n" "planted message"
if is_root; then
  chown 65534 "$m2"
  out=$(line 0 "$id2" s@x alice@x | drive)
  want_line "$out" "0 0 Z Sorry, message has wrong owner. (#4.3.5)\\\\n" "foreign owner"
  chown 0 "$m2"
fi
ok "bad messages refused, temporarily"

# 4. Slots: out of range, or still busy.
echo '|sleep 1; echo slow' > "$T/h2/.qmail-slow"
out=$({ line 500 "$id" s@x alice@x; line 7 "$id" s@x bob-slow@x; line 7 "$id" s@x alice@x; } | drive)
want_line "$out" "500 0 Z Internal error: delivery slot too big. (#4.3.5)\\\\n" "slot 500"
want_line "$out" "7 0 Z Internal error: delivery slot in use. (#4.3.5)\\\\n" "busy slot"
want_line "$out" "7 0 K slow\\\\ndid 0+0+1\\\\n" "the first command on slot 7"
ok "slot out of range, slot in use"

# 5. A crashing delivery child, a loud one, VERP, and the program's descriptors.
echo '|kill -SEGV $PPID; sleep 1' > "$T/h2/.qmail-crash"
cat > "$T/h2/.qmail-loud" <<'EOF'
|head -c 10000 /dev/zero | tr '\000' x; exit 100
EOF
cat > "$T/h2/.qmail-fds" <<'EOF'
|ls -l /proc/self/fd > fds
EOF
out=$({ line 0 "$id" s@x bob-crash@x; line 1 "$id" s@x bob-loud@x; line 2 "$id" 'owner-@lists.example-@[]' alice@a.example bob@b.example; line 3 "$id" s@x bob-fds@x; } | drive)
want_line "$out" "0 0 Z qmail-local crashed.\\\\n" "crash"
want_line "$out" "1 0 D x*\\\\nError report too long, sorry.\\\\n" "long report"
len=$(printf "%s\n" "$out" | grep '^1 0 D ' | wc -c)
[ "$len" -le 3100 ] || fail "report of $len bytes"
want_line "$out" "2 0 K did 1+0+0\\\\n" "VERP alice"
want_line "$out" "2 1 K did 1+0+0\\\\n" "VERP bob"
grep -rqx 'Return-Path: <owner-alice=a.example@lists.example>' "$T/h1/Maildir/new" || fail "VERP for alice"
grep -rqx 'Return-Path: <owner-bob=b.example@lists.example>' "$T/h2/Maildir/new" || fail "VERP for bob"
want_line "$out" "3 0 K did 0+0+1\\\\n" "fds"
expect_eq "fds of a program under qmail-lspawn" \
  "$(grep -v ' -> /proc/[0-9]*/fd$' "$T/h2/fds" | awk 'NF > 8 {print $9}' | tr '\n' ' ')" "0 1 2 "
ok "crash -> Z, long report truncated, VERP per recipient, fds 0-2"

# 6. Mapping without users/assign entries: qmail-getpw's rules; a broken assign.
out=$(line 0 "$id" s@x root@x | drive)
printf "%s\n" "$out" | grep -Eq "^0 0 Z (cannot switch to user [a-z]+: qfleet runs unprivileged|Unable to find alias user!) \(#4.3.0\)" ||
  fail "root goes to the alias user: $out"
cp "$QMAILHOME/users/assign" "$T/assign.good"
echo "garbage" > "$QMAILHOME/users/assign"
out=$(line 0 "$id" s@x alice@x | drive)
want_line "$out" "0 0 Z Trouble reading users/assign in qmail-lspawn. (#4.3.0)\\\\n" "broken assign"
grep -q "users/assign: line 1" "$T/lspawn.err" || fail "assign warning: $(cat "$T/lspawn.err")"
cp "$T/assign.good" "$QMAILHOME/users/assign"
ok "getpw fallback to the alias user; broken assign -> Z"

# 7. Hostile recipients: control bytes, slashes, dots, shell syntax. No path
# outside the home, no shell: the extension reaches the program verbatim.
cat > "$T/h3/.qmail-default" <<'EOF'
|printf '%s|' "$EXT" >> exts; printf '%s' "$DTLINE" >> dtlines
EOF
out=$(line 0 "$id" s@x 'weird-a\x0ab\x0dc\x09d\x01\x7f\xff@x' 'weird-;id;`id`$(id)|id@x' 'weird-../../../etc/passwd@x' 'weird-.hidden@x' 'weird-a/b@x' | drive)
want_line "$out" "0 0 K did 0+0+1\\\\n" "control bytes"
want_line "$out" "0 1 K did 0+0+1\\\\n" "shell syntax"
want_line "$out" "0 2 D Sorry, no mailbox here by that name. (#5.1.1)\\\\n" "dot-dot-slash"
want_line "$out" "0 3 K did 0+0+1\\\\n" "leading dot"
want_line "$out" "0 4 D Sorry, no mailbox here by that name. (#5.1.1)\\\\n" "slash"
printf 'a\nb\rc\td\001\177\377|;id;`id`$(id)|id|.hidden|' > "$T/want-exts"
cmp -s "$T/h3/exts" "$T/want-exts" || fail "extensions: $(od -c "$T/h3/exts" | head)"
grep -c '^Delivered-To: ' "$T/h3/dtlines" | grep -qx 3 || fail "DTLINE kept on one line: $(od -c "$T/h3/dtlines" | head)"
if command -v strace > /dev/null; then
  line 0 "$id" s@x 'weird-../../../etc/passwd@x' 'weird-;sh -c id;@x' |
    "$HELPERS/spawn-drive" strace -f -qq -o "$T/trace" -e trace=open,openat,creat,execve \
    "$BIN/qmail-lspawn" ./Maildir/ > /dev/null 2>&1
  grep -q 'execve("/bin/sh"' "$T/trace" || fail "strace saw no program: $(head "$T/trace")"
  grep -E 'open(at)?\(.*(etc/passwd|\.\./)' "$T/trace" && fail "a path from an address was opened"
  grep 'execve(' "$T/trace" | grep -q 'sh -c id' && fail "a shell saw the address"
fi
ok "hostile recipients: verbatim in \$EXT, D for slashes, DTLINE one line"

# 8. A malformed command stream: in-flight deliveries finish, then exit 111.
out=$({ line 0 "$id" s@x bob-slow@x; line raw 0000616263000000; } | drive)
want_line "$out" "0 0 K slow\\\\ndid 0+0+1\\\\n" "delivery before the garbage"
want_line "$out" "exit 111" "exit after garbage"
grep -q "malformed command" "$T/lspawn.err" || fail "no warning: $(cat "$T/lspawn.err")"
ok "malformed stream: stop reading, finish, exit 111"

# 9. Usage.
"$BIN/qmail-lspawn" < /dev/null > /dev/null 2>&1; expect_eq "no argument" $? 100
exit 0
