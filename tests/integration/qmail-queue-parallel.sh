# 400 messages from 4 parallel injectors (N=1000 tests/run qmail-queue-parallel for more): every one committed, byte-exact in
# mess/, with its own envelope in todo/.
. "$(dirname "$0")/lib.sh"
Q=$T/queue
mkqueue "$Q"
export QUEUEDIR=$Q
N=${N:-400}
mkdir "$T/in"
injector() { # k: injects messages k, k+4, ...
  i=$1
  while [ $i -le $N ]; do
    f=$T/in/$i
    { printf 'Subject: message %s\nX-Token: tok-%s\n\n' $i $i; head -c $((i * 7 % 3000)) /dev/urandom | od -An -tx1; } > "$f"
    envelope "s$i@example.org" "r$i@example.net" "x$i@example.com" > "$f.env"
    "$BIN/qmail-queue" < "$f" 1< "$f.env" || { echo "inject $i: exit $?" >> "$T/errors"; }
    i=$((i + 4))
  done
}
start=$(date +%s.%N)
for k in 1 2 3 4; do injector $k & done
wait
end=$(date +%s.%N)
[ ! -s "$T/errors" ] || fail "$(cat "$T/errors")"
awk -v a="$start" -v b="$end" -v n=$N 'BEGIN { printf "injected %d in %.2f s\n", n, b - a }'

expect_eq "messages in mess/" "$(find "$Q/mess" -type f | wc -l)" $N
expect_eq "messages in todo/" "$(find "$Q/todo" -type f | wc -l)" $N
# Map each stored message to its token and check bytes and envelope.
bad=0
for m in $(find "$Q/mess" -type f); do
  id=$(basename "$m")
  i=$(sed -n 's/^X-Token: tok-\([0-9]*\)$/\1/p' "$m")
  [ -n "$i" ] || { echo "no token in $m"; bad=1; continue; }
  tail -n +2 "$m" | cmp -s - "$T/in/$i" || { echo "message $i differs"; bad=1; }
  tr '\0' '\n' < "$Q/todo/$id" | tail -n +3 > "$T/e1"
  tr '\0' '\n' < "$T/in/$i.env" | sed '/^$/d' > "$T/e2"
  cmp -s "$T/e1" "$T/e2" || { echo "envelope $i differs"; bad=1; }
  echo "$i" >> "$T/seen"
done
[ $bad = 0 ] || fail "mismatches"
expect_eq "distinct tokens" "$(sort -u "$T/seen" | wc -l)" $N
ok "$N messages from 4 injectors, all byte-exact"
