# Privilege separation as installed (reliability.md 3.8, DESIGN.md §1), as
# root: every daemon's uid, gid, supplementary groups and effective
# capabilities; qmail-queue the only set-id program, and not root's; every
# program PIE with full RELRO, BIND_NOW and the stack protector; the
# world-writable objects exactly those qfleet(7) lists; and a hijacked
# qmail-send (qmails) or qmail-rspawn (qmailr) cannot touch what is not theirs.
. "$(dirname "$0")/../integration/lib.sh"
need_root "switches uids and installs under conf-qmail"
command -v readelf >/dev/null || skip "needs readelf (binutils)"
home=$(head -n 1 "$TOP/conf-qmail")
cd "$TOP"
package/install > "$T/install.log" 2>&1 || fail "install: $(cat "$T/install.log")"
Q=$home/queue
[ -z "$(find "$Q/mess" "$Q/todo" -type f | head -n 1)" ] || skip "$Q is not empty; not touching it"

# 1. Hardening of every installed program.
for b in "$home"/bin/*; do
  n=$(basename "$b")
  readelf -h "$b" 2>/dev/null | grep -q 'Type:[[:space:]]*DYN' || fail "$n is not PIE"
  readelf -l "$b" | grep -q GNU_RELRO || fail "$n has no RELRO"
  readelf -d "$b" | grep -Eq 'BIND_NOW|FLAGS_1.*NOW' || fail "$n is not BIND_NOW (full RELRO)"
  readelf -sW "$b" | grep -q '__stack_chk_fail' || fail "$n has no stack protector"
done
fortified=$(for b in "$home"/bin/*; do readelf -sW "$b" | grep -q '__[a-z]*_chk@' && echo x; done | wc -l)
[ "$fortified" -gt 0 ] || fail "no program uses _FORTIFY_SOURCE's checked calls"
ok "$(ls "$home/bin" | wc -l) programs: PIE, RELRO, BIND_NOW, stack protector ($fortified with fortified calls)"

# 2. Set-id programs: qmail-queue alone, set-user-id qmailq.
setid=$(find "$home" -type f -perm /6000 -printf '%P %u %m\n')
expect_eq "set-id files" "$setid" "bin/qmail-queue qmailq 4711"

# 3. Start the installed suite; each daemon's identity.
mkdir -p "$T/control"
echo test.example > "$T/control/me"
# Remote mail goes nowhere but to a closed port here (a deferral).
echo "remote.example:127.0.0.1:1" > "$T/control/smtproutes"
chmod -R a+rX "$T/control"
env - PATH="$home/bin:/usr/bin:/bin" CONTROLDIR="$T/control" setsid "$home/bin/qmail-start" ./Maildir/ cat > "$T/log" 2>&1 &
START=$!
on_exit stop_pid $START
wait_for 10 grep -q '^status: local' "$T/log" || fail "did not start: $(cat "$T/log")"
wait_for 10 test -S "$Q/inject.sock" || fail "no inject.sock"
field() { awk -v f="$2:" '$1 == f { $1 = ""; sub(/^ /, ""); print }' "/proc/$1/status" | tr -s ' \t' ' '; }
uid() { id -u "$1"; }
gid() { getent group "$1" | cut -d: -f3; }
qmail=$(gid qmail) nofiles=$(gid nofiles)
# check pid name user group: real, effective, saved uid and gid; one group;
# no capability unless root.
check() {
  u=$3; [ "$u" = root ] && u=0 || u=$(uid "$3")
  g=$(gid "$4")
  expect_eq "$2 uids" "$(field "$1" Uid)" "$u $u $u $u"
  expect_eq "$2 gids" "$(field "$1" Gid)" "$g $g $g $g"
  expect_eq "$2 groups" "$(field "$1" Groups | tr -d ' \t')" "$g"
  if [ "$u" != 0 ]; then
    expect_eq "$2 CapEff" "$(field "$1" CapEff)" 0000000000000000
    expect_eq "$2 CapPrm" "$(field "$1" CapPrm)" 0000000000000000
  fi
}
check $START qmail-send qmails qmail
n=0
for line in todo-proc:qmails:qmail qmail-lspawn:root:qmail qmail-rspawn:qmailr:qmail \
            qmail-clean:qmailq:qmail qmail-queued:qmailq:qmail cat:qmaill:nofiles; do
  name=${line%%:*} rest=${line#*:}
  for p in $(pgrep -P $START -x "$name"); do
    check "$p" "$name" "${rest%%:*}" "${rest#*:}"; n=$((n + 1))
    for w in $(pgrep -P "$p" -x "$name"); do check "$w" "$name worker" "${rest%%:*}" "${rest#*:}"; n=$((n + 1)); done
  done
done
[ "$n" -ge 11 ] || fail "only $n daemons found under qmail-send"
ok "$n daemons under qmail-send: uids, gids, one group each, no capabilities but qmail-lspawn's"

# 4. World-writable objects: those qfleet(7) lists, no other.
listed=$(sed -n '/^\.SH "WORLD-WRITABLE OBJECTS"/,/^\.SH/p' man/qfleet.7 | sed -n 's/^\.I queue\//queue\//p' | sort | tr '\n' ' ')
found=$(find "$home" -perm -0002 ! -type l -printf '%P\n' | sort | tr '\n' ' ')
expect_eq "world-writable objects (qfleet(7) lists: $listed)" "$found" "$listed"
ok "world-writable: $found(as qfleet(7) lists)"

# 5. A hijacked qmails (qmail-send, todo-proc) or qmailr (qmail-rspawn).
as() { u=$1; shift; setpriv --reuid="$(uid "$u")" --regid="$qmail" --clear-groups "$@"; }
printf 'Subject: priv\n\nx\n' | CONTROLDIR="$T/control" "$home/bin/qmail-inject" -f root@test.example nobody@remote.example ||
  fail "inject"
id=$(find "$Q/mess" -type f -printf '%f\n' | head -n 1)
[ -n "$id" ] || fail "no message to look at"
as qmails sh -c "echo x > '$Q/todo/1' || exit 0; exit 1" 2>/dev/null || fail "qmails created todo/1"
as qmails sh -c "echo x >> '$(find "$Q/mess" -type f | head -n 1)' || exit 0; exit 1" 2>/dev/null ||
  fail "qmails wrote a message file"
as qmails sh -c "echo x > '$Q/intd/1' || exit 0; exit 1" 2>/dev/null || fail "qmails created intd/1"
wait_for 10 sh -c "find '$Q/info' -type f | grep -q ." || fail "no info file"
as qmailr sh -c "cat $Q/info/*/* > /dev/null 2>&1 || exit 0; exit 1" || fail "qmailr read info/"
as qmailr sh -c "ls $Q/remote/* > /dev/null 2>&1 || exit 0; exit 1" || fail "qmailr listed remote/"
setpriv --reuid=65534 --regid=65534 --clear-groups sh -c "cat '$(find "$Q/mess" -type f | head -n 1)' > /dev/null 2>&1 || exit 0; exit 1" ||
  fail "nobody read a message"
# qmail-clean takes numbers only: a path from its peer is refused.
for req in 'foop/../../etc/passwd' 'todo/1/../../x' 'foop/' 'rm -rf /'; do
  a=$(printf '%s\0' "$req" | as qmailq env QUEUEDIR="$Q" "$home/bin/qmail-clean" | od -An -c | tr -d ' ')
  expect_eq "qmail-clean's answer to '$req'" "$a" x
done
ok "qmails cannot write todo/, intd/ or mess/; qmailr cannot read info/ or remote/; nobody cannot read mess/; qmail-clean refuses paths"
stop_pid $START
find "$Q/mess" "$Q/intd" "$Q/todo" "$Q/info" "$Q/local" "$Q/remote" "$Q/bounce" "$Q/defer" "$Q/hold" -type f -exec rm -f {} + 2>/dev/null
