# qmail-local into a Maildir: byte-exact after the two added lines, the
# Delivered-To loop check, every failure temporary with tmp/ left clean, and
# the safety checks on the home directory.
. "$(dirname "$0")/lib.sh"
export CONTROLDIR=$T/control
mkdir -p "$CONTROLDIR"
H=$T/home
mkmaildir() { mkdir -p "$1/tmp" "$1/new" "$1/cur"; }
mkdir -m 755 "$H"
mkmaildir "$H/Maildir"
ql() { "$BIN/qmail-local" "$@"; }
one_file() { # dir: the single file in dir/new
  n=$(ls "$1/new" | wc -l)
  [ "$n" = 1 ] || fail "want one file in $1/new, got $n"
  echo "$1/new/$(ls "$1/new")"
}

# 1. No .qmail: the default delivery. Header lines, then the bytes as they were.
printf 'Subject: hello\n\nFrom the start\nbody\n' > "$T/msg"
head -c 100000 /dev/urandom >> "$T/msg"
printf 'no newline at the end' >> "$T/msg"
out=$(ql joe "$H" Joe "" "" Example.COM 'a@b.example' ./Maildir/ < "$T/msg"); rc=$?
expect_eq "exit" $rc 0
expect_eq "report" "$out" "did 1+0+0"
f=$(one_file "$H/Maildir")
{ printf 'Return-Path: <a@b.example>\nDelivered-To: Joe@Example.COM\n'; cat "$T/msg"; } > "$T/want"
cmp -s "$f" "$T/want" || fail "maildir file differs from the message"
expect_eq "tmp/ empty" "$(ls "$H/Maildir/tmp")" ""
expect_eq "mode" "$(stat -c %a "$f")" 600
case $(basename "$f") in
  [0-9]*.M[0-9]*P[0-9]*Q[0-9]*.*) ;;
  *) fail "file name $(basename "$f")" ;;
esac
ok "default delivery: byte-exact, mode 600, unique name"

# 2. A .qmail with two Maildirs, relative and absolute; a quoted sender.
rm -f "$H/Maildir/new/"*
mkmaildir "$H/Other"
printf './Maildir/\n%s/Other/\n' "$H" > "$H/.qmail"
out=$(ql joe "$H" joe "" "" example.com 'john smith@x' ./Mailbox < "$T/msg"); rc=$?
expect_eq "two maildirs" "$rc:$out" "0:did 2+0+0"
head -n 1 "$(one_file "$H/Other")" | grep -qx 'Return-Path: <"john smith"@x>' || fail "quoted Return-Path"
head -n 1 "$(one_file "$H/Maildir")" | grep -qx 'Return-Path: <"john smith"@x>' || fail "quoted Return-Path"
[ ! -e "$H/Mailbox" ] || fail "default delivery used although .qmail exists"
ok "two Maildir lines"

# 3. A message that already has our Delivered-To line is a loop: permanent.
rm -f "$H/Maildir/new/"* "$H/Other/new/"*
printf 'Received: x\nDELIVERED-TO: Joe@Example.com\nSubject: loop\n\nbody\n' > "$T/loop"
out=$(ql joe "$H" joe "" "" example.com a@b ./Maildir/ < "$T/loop"); rc=$?
expect_eq "loop exit" $rc 100
expect_eq "loop text" "$out" "This message is looping: it already has my Delivered-To line. (#5.4.6)"
expect_eq "nothing delivered" "$(ls "$H/Maildir/new")" ""
# The same line in the body, or another recipient's, is no loop.
printf 'Subject: x\nDelivered-To: other@example.com\n\nDelivered-To: joe@example.com\n' > "$T/noloop"
out=$(ql joe "$H" joe "" "" example.com a@b ./Maildir/ < "$T/noloop"); expect_eq "no loop" $? 0
ok "loop detection"

# 4. Failures are temporary and leave tmp/ clean.
rm -f "$H/.qmail" "$H/Maildir/new/"*
out=$(ql joe "$H" joe "" "" example.com a@b ./Missing/ < "$T/msg"); rc=$?
expect_eq "missing maildir" $rc 111
echo "$out" | grep -q '(#4\.' || fail "missing maildir text: $out"
mkdir -p "$H/Broken/new" "$H/Broken/cur"; : > "$H/Broken/tmp"
out=$(ql joe "$H" joe "" "" example.com a@b ./Broken/ < "$T/msg"); expect_eq "tmp is a file" $? 111
mkmaildir "$H/Ro"
if is_root; then
  # root ignores modes: deliver as nobody to a Maildir nobody may not write.
  mkdir -m 755 "$T/nb"; mkmaildir "$T/nb/Maildir"; chown -R 65534 "$T/nb"; chmod 500 "$T/nb/Maildir/tmp"
  chmod 644 "$T/msg"
  out=$(setpriv --reuid=65534 --regid=65534 --clear-groups "$BIN/qmail-local" nobody "$T/nb" nobody "" "" example.com a@b ./Maildir/ < "$T/msg"); rc=$?
  expect_eq "unwritable tmp/" $rc 111
  echo "$out" | grep -q "Permission denied" || fail "unwritable text: $out"
  chmod 700 "$T/nb/Maildir/tmp"; chmod 500 "$T/nb/Maildir/new"
  out=$(setpriv --reuid=65534 --regid=65534 --clear-groups "$BIN/qmail-local" nobody "$T/nb" nobody "" "" example.com a@b ./Maildir/ < "$T/msg"); rc=$?
  expect_eq "unwritable new/" $rc 111
  expect_eq "tmp/ cleaned after a failed link" "$(ls "$T/nb/Maildir/tmp")" ""
else
  chmod 500 "$H/Ro/tmp"
  out=$(ql joe "$H" joe "" "" example.com a@b ./Ro/ < "$T/msg"); expect_eq "unwritable tmp/" $? 111
  chmod 700 "$H/Ro/tmp"; chmod 500 "$H/Ro/new"
  out=$(ql joe "$H" joe "" "" example.com a@b ./Ro/ < "$T/msg"); expect_eq "unwritable new/" $? 111
  expect_eq "tmp/ cleaned after a failed link" "$(ls "$H/Ro/tmp")" ""
  chmod 700 "$H/Ro/new"
fi
out=$(cat "$T/msg" | ql joe "$H" joe "" "" example.com a@b ./Maildir/); rc=$?
expect_eq "message on a pipe" "$rc:$out" "111:Unable to rewind message. (#4.3.0)"
ok "failures are temporary (#4.x), tmp/ clean"

# 5. The home directory: group- or world-writable, or sticky, is refused.
for mode in 775 757 1755; do
  chmod $mode "$H"
  out=$(ql joe "$H" joe "" "" example.com a@b ./Maildir/ < "$T/msg"); rc=$?
  expect_eq "home $mode" $rc 111
  case $mode in
    1755) expect_eq "sticky text" "$out" "Home directory is sticky: user is editing his .qmail file. (#4.2.1)" ;;
    *) expect_eq "writable text" "$out" "Uh-oh: home directory is writable. (#4.7.0)" ;;
  esac
done
out=$(ql -n joe "$H" joe "" "" example.com a@b ./Maildir/ < "$T/msg"); rc=$?
expect_eq "-n on a sticky home" "$rc:$out" "0:Warning: home directory is sticky.
maildir ./Maildir/
did 1+0+0"
chmod 755 "$H"
printf './Maildir/\n' > "$H/.qmail"; chmod 664 "$H/.qmail"
out=$(ql joe "$H" joe "" "" example.com a@b ./Mailbox < "$T/msg"); rc=$?
expect_eq "writable .qmail" "$rc:$out" "111:Uh-oh: .qmail file is writable. (#4.7.0)"
chmod 644 "$H/.qmail"
out=$(ql joe "$T/nohome" joe "" "" example.com a@b ./Maildir/ < "$T/msg"); rc=$?
expect_eq "missing home" $rc 111
expect_eq "nothing delivered by refusals" "$(ls "$H/Maildir/new")" ""
ok "home and .qmail safety checks"

# 6. Disk full (root only: a small tmpfs): temporary, mailbox full, tmp/ clean.
if is_root; then
  mkdir "$T/small"
  if mount -t tmpfs -o size=64k tmpfs "$T/small" 2>/dev/null; then
    umount_small() { umount "$T/small" 2>/dev/null; }
    on_exit umount_small
    mkdir -m 755 "$T/small/h"; mkmaildir "$T/small/h/Maildir"
    head -c 300000 /dev/urandom > "$T/huge"
    out=$(ql joe "$T/small/h" joe "" "" example.com a@b ./Maildir/ < "$T/huge"); rc=$?
    expect_eq "disk full" $rc 111
    echo "$out" | grep -q "No space left on device. (#4.2.2)$" || fail "disk full text: $out"
    expect_eq "tmp/ clean when full" "$(ls "$T/small/h/Maildir/tmp")" ""
    expect_eq "new/ empty when full" "$(ls "$T/small/h/Maildir/new")" ""
    printf "Subject: small\n\nfits\n" > "$T/smallmsg"
    out=$(ql joe "$T/small/h" joe "" "" example.com a@b ./Maildir/ < "$T/smallmsg"); expect_eq "fits again" $? 0
    ok "disk full -> 111 (#4.2.2), nothing left behind"
  else
    echo "skipped disk-full case: this machine does not let root mount a tmpfs"
  fi
fi

# 7. Usage.
ql joe relative joe "" "" example.com a@b ./Maildir/ < "$T/msg" 2>/dev/null; expect_eq "relative home" $? 100
ql joe "$H" joe "" "" example.com a@b < "$T/msg" 2>/dev/null; expect_eq "too few arguments" $? 100
ok "usage errors exit 100"
exit 0
