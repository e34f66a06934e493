# skalibs and libowfat in one binary: skalibs' buffer and strerr work, and
# libowfat's dns_ip4 returns the right addresses for literals (a naive
# -lskarnet -lowfat link returns 55.55.55.55 or crashes).
. "$(dirname "$0")/lib.sh"
out=$("$HELPERS/owfat-linkcheck" 10.1.2.3 127.0.0.1 192.168.200.17 2> "$T/err")
expect_eq "exit" $? 0
expect_eq "addresses" "$out" "10.1.2.3 127.0.0.1 192.168.200.17"
grep -q "owfat-linkcheck: warning: skalibs strerr works" "$T/err" || fail "strerr: $(cat "$T/err")"
# The map is generated, not hard-coded: it holds every shared name, and the
# private archive defines none of them under its own name.
map=$TOP/obj/owfat.map
[ -s "$map" ] || fail "no obj/owfat.map"
n=$(wc -l < "$map")
[ "$n" -ge 60 ] || fail "only $n renamed names"
leaked=$(nm -g --defined-only "$TOP/obj/libowfat-private.a" 2>/dev/null | awk 'NF==3 {print $3}' | sort -u |
  comm -12 - "$TOP/obj/skarnet.syms" | wc -l)
expect_eq "shared names left in the private libowfat" "$leaked" 0
ok "$n names renamed; literal lookups correct"
