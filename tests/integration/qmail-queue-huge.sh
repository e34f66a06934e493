# A message over 4 GiB whose first header line alone is over 4 GiB (the
# CVE-2005-1513 shape): streamed to the queue without trouble, size exact.
# Needs root for a 5 GiB tmpfs (memory-backed, so it takes seconds, not minutes).
. "$(dirname "$0")/lib.sh"
need_root "mounts a tmpfs"
mem=$(awk '/MemAvailable/ { print int($2 / 1024 / 1024) }' /proc/meminfo)
[ "$mem" -ge 7 ] || skip "needs 7 GiB of free memory for a 5 GiB tmpfs (have $mem GiB)"
mkdir "$T/big"
mount -t tmpfs -o size=5g tmpfs "$T/big" 2>/dev/null || skip "this machine does not let root mount a tmpfs"
unmount() { umount "$T/big" 2>/dev/null; }
on_exit unmount
mkqueue "$T/big/q"
envelope a@example.org b@example.net > "$T/env"
line=4300000000     # bytes in the header line, over 2^32
{ printf 'X-Long: '; head -c $line /dev/zero | tr '\0' a; printf '\n\nbody\n'; } |
  QUEUEDIR=$T/big/q "$BIN/qmail-queue" 1< "$T/env"
expect_eq "exit" $? 0
m=$(find "$T/big/q/mess" -type f)
recv=$(head -n 1 "$m" | wc -c)
size=$(stat -c %s "$m")
expect_eq "stored size" "$size" $((recv + 8 + line + 7))
expect_eq "tail intact" "$(tail -c 5 "$m")" "body"
[ -f "$T/big/q/todo/$(basename "$m")" ] || fail "not committed"
rm -f "$m"
ok "$size-byte message with a $line-byte header line"
