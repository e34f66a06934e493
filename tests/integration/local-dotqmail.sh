# qmail-local's .qmail lookup: the extension chain with DEFAULT, '.' mapped to
# ':', no path outside the home, no shell ever seeing an address, -n, and the
# rules for blank first lines, the x bit and +list.
. "$(dirname "$0")/lib.sh"
export CONTROLDIR=$T/control
mkdir -p "$CONTROLDIR"
H=$T/home
mkdir -m 755 "$H"
mkdir -p "$H/Maildir/tmp" "$H/Maildir/new" "$H/Maildir/cur"
printf 'Subject: x\n\nbody\n' > "$T/msg"
# ql local ext: deliver to joe's extension (dash "-")
ql() { "$BIN/qmail-local" joe "$H" "$1" - "$2" example.com s@x ./Maildir/ < "$T/msg"; }
record='|echo "$DEFAULT|$EXT|$EXT2|$EXT3|$EXT4|$LOCAL" >> got'

# 1. The chain: exact, then -default from the longest prefix.
echo "$record" > "$H/.qmail-a-b-c"
echo "$record" > "$H/.qmail-a-b-default"
echo "$record" > "$H/.qmail-a-default"
echo "$record" > "$H/.qmail-default"
for ext in a-b-c A-B-C a-b-x a-b- a-x-y b x.y; do
  out=$(ql "joe-$ext" "$ext"); rc=$?
  expect_eq "ext $ext" "$rc:$out" "0:did 0+0+1"
done
expect_eq "DEFAULT and EXTn" "$(cat "$H/got")" "|a-b-c|b-c|c||joe-a-b-c
|A-B-C|B-C|C||joe-A-B-C
x|a-b-x|b-x|x||joe-a-b-x
|a-b-|b-|||joe-a-b-
x-y|a-x-y|x-y|y||joe-a-x-y
b|b||||joe-b
x.y|x.y||||joe-x.y"
ok "the -default chain sets DEFAULT; EXT keeps its case"

# 2. '.' in the extension is ':' in the file name; '/' never names a path.
rm -f "$H/got" "$H/.qmail-default"
echo "$record" > "$H/.qmail-x:y"
out=$(ql joe-x.y x.y); expect_eq "x.y uses .qmail-x:y" "$?:$out" "0:did 0+0+1"
out=$(ql joe-X.Y X.Y); expect_eq "X.Y uses .qmail-x:y" "$?:$out" "0:did 0+0+1"
mkdir -p "$H/.qmail-sub"; echo "$record" > "$H/.qmail-sub/x"
out=$(ql joe-sub/x sub/x); rc=$?
expect_eq "slash in ext" "$rc:$out" "100:Sorry, no mailbox here by that name. (#5.1.1)"
out=$(ql "joe-../../etc" "../../etc"); expect_eq "dots in ext" $? 100
out=$(ql joe-nothing nothing); rc=$?
expect_eq "no such extension" "$rc:$out" "100:Sorry, no mailbox here by that name. (#5.1.1)"
expect_eq "only x.y recorded" "$(cat "$H/got")" "|x.y||||joe-x.y
|X.Y||||joe-X.Y"
ok "'.' -> ':', '/' refused, unknown extension -> 5.1.1"

# 3. Shell metacharacters reach programs only through the environment.
rm -f "$H/got"
cat > "$H/.qmail-default" <<'EOT'
|printf '%s\n' "$EXT" >> got
EOT
for ext in ';touch pwned1;' '$(touch pwned2)' '`touch pwned3`' '|touch pwned4' "'; touch pwned5; '" '-x;touch pwned6'; do
  out=$(ql "joe-$ext" "$ext"); expect_eq "metachar ext $ext" "$?:$out" "0:did 0+0+1"
done
[ -z "$(ls "$H" | grep pwned)" ] || fail "a shell ran address text: $(ls "$H")"
expect_eq "exts passed verbatim" "$(cat "$H/got")" ";touch pwned1;
\$(touch pwned2)
\`touch pwned3\`
|touch pwned4
'; touch pwned5; '
-x;touch pwned6"
ok "no shell sees an address"

# 4. No .qmail: the default delivery when dash is empty; -n shows the plan.
rm -rf "$H/.qmail-"*
out=$("$BIN/qmail-local" joe "$H" joe "" "" example.com s@x ./Maildir/ < "$T/msg"); expect_eq "default delivery" "$?:$out" "0:did 1+0+0"
printf '# plan\n./Maildir/\n./Mailbox\n|prog arg\n&fwd@example.org\nplain@example.net\n' > "$H/.qmail-plan"
out=$(ql joe-plan plan); expect_eq "-N runs it: no such prog" $? 111
out=$("$BIN/qmail-local" -n joe "$H" joe-plan - plan example.com s@x ./Maildir/ < "$T/msg"); rc=$?
expect_eq "-n" "$rc:$out" "0:maildir ./Maildir/
mbox ./Mailbox
program prog arg
forward fwd@example.org
forward plain@example.net
did 2+2+1"
ok "default delivery and -n"

# 5. Blank first line, empty file, x bit, +list, exit 99.
printf '\n./Maildir/\n' > "$H/.qmail-blank"
out=$(ql joe-blank blank); expect_eq "blank first line" "$?:$out" "111:Uh-oh: first line of .qmail file is blank. (#4.2.1)"
: > "$H/.qmail-empty"
n=$(ls "$H/Maildir/new" | wc -l)
out=$(ql joe-empty empty); expect_eq "empty .qmail: default delivery" "$?:$out" "0:did 1+0+0"
expect_eq "delivered by default" "$(ls "$H/Maildir/new" | wc -l)" $((n + 1))
printf './Maildir/\n' > "$H/.qmail-xbit"; chmod 744 "$H/.qmail-xbit"
out=$(ql joe-xbit xbit); expect_eq "x bit and a file line" "$?:$out" "111:Uh-oh: .qmail has file delivery but has x bit set. (#4.7.0)"
printf '|true\n' > "$H/.qmail-xprog"; chmod 744 "$H/.qmail-xprog"
out=$(ql joe-xprog xprog); expect_eq "x bit and a program line" "$?:$out" "111:Uh-oh: .qmail has prog delivery but has x bit set. (#4.7.0)"
printf '|echo first\n+list\n|echo second\n' > "$H/.qmail-list"
out=$(ql joe-list list); expect_eq "+list then a program" "$?:$out" "111:first
Uh-oh: .qmail has prog delivery but has x bit set. (#4.7.0)"
printf '|echo one; exit 99\n./Maildir/\n|echo never\n' > "$H/.qmail-stop"
n=$(ls "$H/Maildir/new" | wc -l)
out=$(ql joe-stop stop); expect_eq "exit 99 stops" "$?:$out" "0:one
did 0+0+1"
expect_eq "nothing after 99" "$(ls "$H/Maildir/new" | wc -l)" "$n"
ok "blank first line, empty file, x bit, +list, exit 99"

# 6. A .qmail that is a symbolic link is followed (ezmlm's layout); a fifo is skipped.
mkdir -p "$H/list"; printf '|echo via link\n' > "$H/list/editor"
ln -s "$H/list/editor" "$H/.qmail-ezlist"
out=$(ql joe-ezlist ezlist); expect_eq "symlinked .qmail" "$?:$out" "0:via link
did 0+0+1"
mkfifo "$H/.qmail-fifo"
echo '|echo default' > "$H/.qmail-default"
out=$(ql joe-fifo fifo); expect_eq "a fifo is not a .qmail" "$?:$out" "0:default
did 0+0+1"
ok "symlinked .qmail followed, fifo skipped"
exit 0
