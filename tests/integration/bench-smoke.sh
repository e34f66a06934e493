# The benchmark harness itself (bench/run), on a tiny run: scenario (a) with
# 20 messages, one round, both systems (qfleet only if its local delivery is
# built). Asserts that a report with a results table and numbers comes out,
# and that the harness leaves no scratch directory, process or user home
# behind. It measures nothing: no number is compared with anything.
. "$(dirname "$0")/lib.sh"

need_root "bench/run starts a private Postfix and switches users"
for p in /usr/sbin/postfix /usr/sbin/sendmail /usr/sbin/smtp-sink /usr/sbin/smtp-source; do
  [ -x "$p" ] || skip "needs Postfix's $p (Debian package postfix)"
done
for p in setuidgid flock ss useradd usermod; do
  command -v "$p" >/dev/null 2>&1 || skip "needs $p"
done
[ -x "$BIN/qmail-queue" ] && [ -x "$BIN/queue-fix" ] || skip "needs bin/qmail-queue and bin/queue-fix (make)"

report=$T/report.md
"$TOP/bench/run" -n 20 -r 1 --lock-wait 40 --out "$report" a > "$T/out" 2> "$T/err"
rc=$?
[ $rc = 75 ] && skip "another bench run held /var/tmp/qfbench.lock for 40 s"
[ $rc = 0 ] || { cat "$T/err" >&2; fail "bench/run exited $rc"; }
ok "bench/run -n 20 a exited 0"

[ -s "$report" ] || fail "no report in $report"
cmp -s "$report" "$T/out" || fail "the printed report differs from the written one"
grep -q '^| scenario | measure | qfleet | Postfix | qfleet/Postfix | target |$' "$report" ||
  fail "no results table header"

row=$(grep '^| (a) 4 CLI injector loops' "$report") || fail "no row for scenario (a)"
num='[0-9][0-9]*\.[0-9]'
# columns: | title | unit | qfleet | Postfix | ratio | target |
pf=$(echo "$row" | awk -F' [|] ' '{ print $4 }')
qf=$(echo "$row" | awk -F' [|] ' '{ print $3 }')
echo "$pf" | grep -q "^$num*\$" || fail "Postfix column of (a) is not a number: '$pf'"
ok "Postfix (a): $pf msgs/s"
if [ -x "$BIN/qmail-lspawn" ]; then
  echo "$qf" | grep -q "^$num*\$" || fail "qfleet column of (a) is not a number: '$qf' ($(grep '^- (a)' "$report"))"
  ratio=$(echo "$row" | awk -F' [|] ' '{ print $5 }')
  echo "$ratio" | grep -q "^$num*\$" || fail "ratio of (a) is not a number: '$ratio'"
  ok "qfleet (a): $qf msgs/s, ratio $ratio"
else
  expect_eq "qfleet column without qmail-lspawn" "$qf" skipped
  grep -q '^- (a) qfleet skipped: missing bin/qmail-lspawn' "$report" || fail "no note on the skipped qfleet run"
  ok "qfleet (a) skipped, with a note (no bin/qmail-lspawn yet)"
fi
dc=$(grep '^| durable-commit limit' "$report" | awk -F' [|] ' '{ print $3 }')
echo "$dc" | grep -q "^$num*\$" || fail "durable-commit limit is not a number: '$dc'"
ok "durable-commit limit: $dc msgs/s"

# The disk and machine table: a row per system that ran, four numbers each,
# and the machine's CPU per message above zero (20 messages take some).
# section heading: the lines of the report's section under "## heading".
section() { awk -v h="## $1" '$0 == h { on = 1; next } /^## / { on = 0 } on' "$report"; }
io=$(section "The disk and the whole machine per message" |
  sed -n '/^### (a)/,/^## /p' | grep '^| postfix |') || fail "no disk and machine row for Postfix in (a)"
echo "$io" | awk -F' [|] ' -v n="^$num*\$" '
  { sub(/ [|]$/, "", $5)
    for (i = 2; i <= 5; i++) if ($i !~ n) { print "not a number: " $i; exit 1 }
    if ($5 + 0 <= 0) { print "machine CPU " $5; exit 1 } }' ||
  fail "Postfix's disk and machine row of (a) is malformed: '$io'"
ok "disk and machine per message, Postfix (a): $io"

# The CPU outside the cgroup: Postfix's row of (a) has ten numbers (the rest
# may be negative), its machine and cgroup CPU above zero; where the bench
# took no cgroup total (no CPU tables: a chroot without a writable
# hierarchy or taskstats) the cgroup and the rest are n/a.
kt=$(section "The machine's CPU outside the cgroup" |
  sed -n '/^### (a)/,/^## /p' | grep '^| postfix |') || fail "no row for Postfix in (a) of the CPU outside the cgroup"
# (a cgroup total for Postfix's (a) in the CPU tables, or none)
section "CPU per message" | sed -n '/^### (a)/,/^## /p' | grep -q '^| postfix | [*][*]all' && cg=1 || cg=0
echo "$kt" | awk -F' [|] ' -v n="^-?$num*\$" -v cg=$cg '
  { sub(/ [|]$/, "", $11)
    for (i = 2; i <= 11; i++) {
      if (!cg && (i == 3 || i == 11)) { if ($i != "n/a") { print "not n/a without a cgroup: " $i; exit 1 } continue }
      if ($i !~ n) { print "not a number: " $i; exit 1 } }
    if ($2 + 0 <= 0 || (cg && $3 + 0 <= 0)) { print "machine " $2 ", cgroup " $3; exit 1 } }' ||
  fail "Postfix's row of the CPU outside the cgroup in (a) is malformed: '$kt'"
ok "CPU outside the cgroup, Postfix (a): $kt"

# Cleanup: its scratch dir gone, no process left in it, the bench user's
# home parked (checked only while no other bench run holds the lock).
scratch=$(sed -n 's/^bench: scratch \([^;]*\);.*/\1/p' "$T/err")
case $scratch in /var/tmp/qfbench.?*) ;; *) fail "no scratch dir named on stderr" ;; esac
[ ! -e "$scratch" ] || fail "scratch dir $scratch left behind"
for p in /proc/[0-9]*; do
  c=$(readlink "$p/cwd" 2>/dev/null) || continue
  case $c in "$scratch"|"$scratch"/*) fail "process ${p#/proc/} left in $c" ;; esac
done
if flock -n /var/tmp/qfbench.lock true; then
  expect_eq "bench user's home after the run" "$(getent passwd qfbench | cut -d: -f6)" /nonexistent
fi
ok "nothing left behind"
