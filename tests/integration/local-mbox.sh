# qmail-local into an mbox: the From_ line, ">From " quoting, the final
# newline and blank line; symbolic links, hard links and fifos refused
# (CVE-2008-2936) without touching their targets.
. "$(dirname "$0")/lib.sh"
export CONTROLDIR=$T/control
mkdir -p "$CONTROLDIR"
H=$T/home
mkdir -m 755 "$H"
ql() { "$BIN/qmail-local" "$@"; }

# 1. Two deliveries to the default ./Mailbox.
printf 'Subject: hi\n\nFrom me\n>From you\n>>From them\nFromage\nlast line' > "$T/msg"
out=$(ql joe "$H" joe "" "" example.com 'a@b' ./Mailbox < "$T/msg"); rc=$?
expect_eq "first" "$rc:$out" "0:did 1+0+0"
out=$(ql joe "$H" joe "" "" example.com '' ./Mailbox < "$T/msg"); rc=$?
expect_eq "second" "$rc:$out" "0:did 1+0+0"
expect_eq "mode" "$(stat -c %a "$H/Mailbox")" 600
sed -n 1p "$H/Mailbox" | grep -Eq '^From a@b (Mon|Tue|Wed|Thu|Fri|Sat|Sun) [A-Z][a-z]{2} [0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2} [0-9]{4}$' ||
  fail "From_ line: $(sed -n 1p "$H/Mailbox")"
body='Return-Path: <%s>
Delivered-To: joe@example.com
Subject: hi

>From me
>>From you
>>>From them
Fromage
last line

'
{ printf "$body" a@b; printf "$body" ''; } > "$T/want"
grep -v '^From ' "$H/Mailbox" > "$T/got"
cmp -s "$T/got" "$T/want" || { diff "$T/want" "$T/got"; fail "mbox contents"; }
expect_eq "second From_ line" "$(grep -c '^From MAILER-DAEMON ' "$H/Mailbox")" 1
ok "mbox: From_ line, quoting, final newline, blank line"

# 2. Absolute path from a .qmail; an empty message.
printf '%s/abs.mbox\n' "$H" > "$H/.qmail-abs"
: > "$T/empty"
out=$(ql joe "$H" joe-abs - abs example.com a@b ./Mailbox < "$T/empty"); expect_eq "empty message" $? 0
expect_eq "empty message in mbox" "$(tail -n +2 "$H/abs.mbox")" "Return-Path: <a@b>
Delivered-To: joe-abs@example.com"
expect_eq "ends with a blank line" "$(tail -c 2 "$H/abs.mbox" | od -An -c | tr -d ' ')" '\n\n'
ok "absolute path, empty message"

# 3. Links and special files are refused; their targets stay as they were.
echo secret > "$T/target"; chmod 600 "$T/target"
ln -s "$T/target" "$H/sym"
ln -s "$T/created-by-symlink" "$H/dangling"
ln "$T/target" "$H/hard"
mkfifo "$H/fifo"
for name in sym dangling hard fifo; do
  printf './%s\n' "$name" > "$H/.qmail-$name"
  out=$(ql joe "$H" "joe-$name" - "$name" example.com a@b ./Mailbox < "$T/msg"); rc=$?
  expect_eq "$name refused" $rc 111
  echo "$out" | grep -q "^Refusing to deliver to mbox ./$name: .* (#4.7.0)$" || fail "$name text: $out"
done
expect_eq "target unchanged" "$(cat "$T/target")" secret
[ ! -e "$T/created-by-symlink" ] || fail "a dangling symlink created its target"
ok "symlink, dangling symlink, hard link, fifo refused"

# 4. Unwritable mbox: temporary, file unchanged.
if is_root; then
  mkdir -m 755 "$T/nb"; echo old > "$T/nb/Mailbox"; chown -R 65534 "$T/nb"; chmod 400 "$T/nb/Mailbox"
  chmod 644 "$T/msg"
  out=$(setpriv --reuid=65534 --regid=65534 --clear-groups "$BIN/qmail-local" nobody "$T/nb" nobody "" "" example.com a@b ./Mailbox < "$T/msg"); rc=$?
  expect_eq "read-only mbox" $rc 111
  expect_eq "unchanged" "$(cat "$T/nb/Mailbox")" old
else
  echo old > "$H/ro"; chmod 400 "$H/ro"
  printf './ro\n' > "$H/.qmail-ro"
  out=$(ql joe "$H" joe-ro - ro example.com a@b ./Mailbox < "$T/msg"); expect_eq "read-only mbox" $? 111
  expect_eq "unchanged" "$(cat "$H/ro")" old
fi
ok "read-only mbox -> 111"

# 5. A file-size limit hit mid-append: temporary, the mbox cut back to its size.
printf './big\n' > "$H/.qmail-big"
echo before > "$H/big"
head -c 300000 /dev/urandom | base64 > "$T/bigmsg"
out=$(sh -c 'trap "" XFSZ; ulimit -f 100; exec "$@"' sh "$BIN/qmail-local" joe "$H" joe-big - big example.com a@b ./Mailbox < "$T/bigmsg"); rc=$?
expect_eq "file size limit" $rc 111
expect_eq "truncated back" "$(cat "$H/big")" before
ok "write failure truncates the mbox back"
exit 0
