# qmail-queue: a message lands byte-exact; every bad input gets its exit code
# and leaves the queue byte for byte as it was.
. "$(dirname "$0")/lib.sh"
Q=$T/queue
mkqueue "$Q" -s 7
export QUEUEDIR=$Q CONFSPLIT=7
uid=$(id -u)

# 1. A plain message: Received line, then the bytes; envelope in todo/.
printf 'Subject: hello\n\nbody line\n' > "$T/msg"
envelope a@example.org c@example.net e@example.com > "$T/env"
"$BIN/qmail-queue" < "$T/msg" 1< "$T/env"; expect_eq "exit" $? 0
m=$(find "$Q/mess" -type f)
[ "$(echo "$m" | wc -l)" = 1 ] || fail "want one message, got: $m"
id=$(basename "$m")
expect_eq "id is the inode" "$(stat -c %i "$m")" "$id"
expect_eq "bucket" "$(basename "$(dirname "$m")")" "$((id % 7))"
head -n 1 "$m" | grep -Eq "^Received: \(qmail [0-9]+ invoked by uid $uid\); [0-9]+ [A-Z][a-z]{2} [0-9]{4} [0-9:]{8} -0000$" ||
  fail "Received line: $(head -n 1 "$m")"
tail -n +2 "$m" | cmp -s - "$T/msg" || fail "message body differs"
[ -f "$Q/todo/$id" ] && [ -f "$Q/intd/$id" ] || fail "todo/intd missing"
tr '\0' '\n' < "$Q/todo/$id" > "$T/todo.txt"
expect_eq "todo records" "$(sed -n '1p;3,5p' "$T/todo.txt" | tr '\n' ' ')" \
  "u$uid Fa@example.org Tc@example.net Te@example.com "
sed -n 2p "$T/todo.txt" | grep -Eq '^p[0-9]+$' || fail "no p record"
expect_eq "intd and todo are one inode" "$(stat -c %i "$Q/todo/$id")" "$(stat -c %i "$Q/intd/$id")"
expect_eq "mess mode" "$(stat -c %a "$m")" 644
[ -z "$(ls "$Q/pid")" ] || fail "pid/ not empty"
ok "plain message"

# 2. Empty message and a message with NUL bytes: stored byte-exact.
: > "$T/empty"
"$BIN/qmail-queue" < "$T/empty" 1< "$T/env"; expect_eq "empty message" $? 0
awk 'BEGIN { for (i = 0; i < 256; i++) printf "%c", i; printf "\n" }' > "$T/bin1"
printf 'X-Nul: a\0b\r\n\0\0\n' >> "$T/bin1"
head -c 300000 /dev/urandom >> "$T/bin1"
"$BIN/qmail-queue" < "$T/bin1" 1< "$T/env"; expect_eq "binary message" $? 0
found_empty=0 found_bin=0
for f in $(find "$Q/mess" -type f); do
  tail -n +2 "$f" > "$T/body"
  [ -s "$T/body" ] || found_empty=1
  cmp -s "$T/body" "$T/bin1" && found_bin=1
done
expect_eq "empty message stored" $found_empty 1
expect_eq "NUL bytes stored byte-exact" $found_bin 1
ok "empty and binary messages"

# 3. Bad input: exit code, and the queue unchanged.
queue_snapshot "$Q" > "$T/before"
unchanged() { queue_snapshot "$Q" > "$T/after"; cmp -s "$T/before" "$T/after" || { diff "$T/before" "$T/after" | head; fail "$1: queue changed"; }; }
try() { # name want message-file env-file
  "$BIN/qmail-queue" < "$3" 1< "$4"; rc=$?
  expect_eq "$1" $rc "$2"; unchanged "$1"; ok "$1 -> $rc"
}
printf 'Fa@b\0Tc@d\0' > "$T/noterm"; try "envelope without terminator" 54 "$T/msg" "$T/noterm"
: > "$T/noenv"; try "empty envelope" 54 "$T/msg" "$T/noenv"
printf 'this is not an envelope' > "$T/garbage"; try "garbage envelope" 91 "$T/msg" "$T/garbage"
printf 'Ta@b\0\0' > "$T/nof"; try "envelope without sender" 91 "$T/msg" "$T/nof"
printf 'Fa@b\0Xc@d\0\0' > "$T/badrec"; try "unknown record" 91 "$T/msg" "$T/badrec"
printf 'Fa@b\0T\0\0' > "$T/emptyrcpt"; try "empty recipient" 91 "$T/msg" "$T/emptyrcpt"
long=$(head -c 10000 /dev/zero | tr '\0' x)
envelope a@b "$long@example.org" > "$T/longrcpt"; try "10000-char recipient" 11 "$T/msg" "$T/longrcpt"
envelope "$long@example.org" c@d > "$T/longsender"; try "10000-char sender" 11 "$T/msg" "$T/longsender"
exact=$(head -c 1003 /dev/zero | tr '\0' y)
envelope a@b "$exact" > "$T/exact"
"$BIN/qmail-queue" < "$T/msg" 1< "$T/exact"; expect_eq "1003-char address accepted" $? 0
grep -rqa "T$exact" "$Q/todo" || fail "1003-char address not stored whole"
queue_snapshot "$Q" > "$T/before"

"$BIN/qmail-queue" < "$T/msg" 1<&-; expect_eq "closed envelope fd" $? 54; unchanged "closed fd 1"
"$BIN/qmail-queue" <&- 1< "$T/env"; expect_eq "closed message fd" $? 54; unchanged "closed fd 0"
ok "closed descriptors -> 54"

# Queue trouble: 61 home, 62 queue dir, 64 mess, 65 intd, 66 todo.
QMAILHOME=$T/nohome QUEUEDIR= "$BIN/qmail-queue" < "$T/msg" 1< "$T/env"; expect_eq "missing home" $? 61
QUEUEDIR=$T/noqueue "$BIN/qmail-queue" < "$T/msg" 1< "$T/env"; expect_eq "missing queue" $? 62
for pair in mess:64 intd:65 todo:66; do
  d=${pair%:*} want=${pair#*:}
  mv "$Q/$d" "$Q/$d.away"
  "$BIN/qmail-queue" < "$T/msg" 1< "$T/env"; rc=$?
  mv "$Q/$d.away" "$Q/$d"
  expect_eq "missing $d/" $rc "$want"; unchanged "missing $d/"
done
CONFSPLIT=5 "$BIN/qmail-queue" < "$T/msg" 1< "$T/env"; expect_eq "wrong CONFSPLIT" $? 62; unchanged "wrong CONFSPLIT"
BIGTODO=1 "$BIN/qmail-queue" < "$T/msg" 1< "$T/env"; expect_eq "wrong BIGTODO" $? 62; unchanged "wrong BIGTODO"
ok "queue trouble -> 61 62 64 65 66; a split that disagrees with the queue -> 62"

# Unwritable queue: neither mess/'s subdirectories (where the message's
# unnamed inode is made) nor pid/ (qmail's way, the fallback) writable for
# the caller -> 63.
if is_root; then
  setpriv --reuid=65534 --regid=65534 --clear-groups env QUEUEDIR="$Q" CONFSPLIT=7 \
    "$BIN/qmail-queue" < "$T/msg" 1< "$T/env"; rc=$?
else
  modes=$(stat -c '%a %n' "$Q/pid" "$Q"/mess/*)
  chmod 500 "$Q/pid" "$Q"/mess/*
  "$BIN/qmail-queue" < "$T/msg" 1< "$T/env"; rc=$?
  echo "$modes" | while read -r m p; do chmod "$m" "$p"; done
fi
expect_eq "unwritable queue" $rc 63; unchanged "unwritable queue"
ok "unwritable queue -> 63"

# Out of file descriptors: every limit gives a temporary code and no change.
for lim in 4 5; do
  sh -c 'ulimit -n $1; exec "$0"' "$BIN/qmail-queue" $lim < "$T/msg" 1< "$T/env"; rc=$?
  case $rc in 6[1-6]|53) ;; *) fail "fd limit $lim: exit $rc, want 53 or 61-66" ;; esac
  unchanged "fd limit $lim"; ok "fd limit $lim -> $rc"
done

# File size limit: SIGXFSZ is ignored, the write fails, exit 53.
head -c 200000 /dev/urandom > "$T/big"
sh -c 'ulimit -f 50; exec "$0"' "$BIN/qmail-queue" < "$T/big" 1< "$T/env"; expect_eq "file size limit" $? 53
unchanged "file size limit"; ok "file size limit -> 53"

# Disk full on a small tmpfs (root only: mount).
if is_root; then
  mkdir "$T/small"
  if ! mount -t tmpfs -o size=256k,nr_inodes=2048 tmpfs "$T/small" 2>/dev/null; then
    echo "skipped disk-full case: this machine does not let root mount a tmpfs"
    exit 0
  fi
  umount_small() { umount "$T/small" 2>/dev/null; }
  on_exit umount_small
  mkqueue "$T/small/q" -s 7
  queue_snapshot "$T/small/q" > "$T/sbefore"
  head -c 1000000 /dev/urandom > "$T/huge"
  QUEUEDIR=$T/small/q "$BIN/qmail-queue" < "$T/huge" 1< "$T/env"; expect_eq "disk full" $? 53
  queue_snapshot "$T/small/q" > "$T/safter"
  cmp -s "$T/sbefore" "$T/safter" || fail "disk full: queue changed"
  # out of inodes: fill them, then try
  i=0; while touch "$T/small/f$i" 2>/dev/null; do i=$((i + 1)); done
  queue_snapshot "$T/small/q" > "$T/sbefore"
  QUEUEDIR=$T/small/q "$BIN/qmail-queue" < "$T/msg" 1< "$T/env"; expect_eq "no inodes" $? 53
  queue_snapshot "$T/small/q" > "$T/safter"
  cmp -s "$T/sbefore" "$T/safter" || fail "no inodes: queue changed"
  ok "disk full -> 53, no inodes -> 53"
else
  echo "skipped disk-full case (needs root to mount a tmpfs)"
fi
exit 0
