# As root: the installed suite runs every daemon under its own uid and gid
# (DESIGN.md §1; read from /proc/PID/status), a local user's mail is written
# as that user, and a bounce goes through the setuid qmail-queue "for bounce".
. "$(dirname "$0")/lib.sh"
need_root "switches uids"
home=$(head -n 1 "$TOP/conf-qmail")
cd "$TOP"
package/users >/dev/null || fail "package/users"
package/install > "$T/install.log" 2>&1 || fail "install: $(cat "$T/install.log")"
Q=$home/queue
[ -z "$(find "$Q/mess" "$Q/todo" -type f | head -n 1)" ] || skip "$Q is not empty; not touching it"
user=qfpriv$$
useradd -M -d "$T/home" -s /bin/sh "$user" || fail useradd
cleanup_user() { userdel "$user" 2>/dev/null; }
on_exit cleanup_user
mkdir -p "$T/home/Maildir/new" "$T/home/Maildir/cur" "$T/home/Maildir/tmp" "$T/control"
chown -R "$user" "$T/home"; chmod 755 "$T/home"
echo test.example > "$T/control/me"
printf 'test.example\n' > "$T/control/locals"
echo "$user" > "$T/control/doublebounceto"
chmod -R a+rX "$T/control"

env - PATH="$home/bin:/usr/bin:/bin" CONTROLDIR="$T/control" setsid "$home/bin/qmail-start" ./Maildir/ cat > "$T/log" 2>&1 &
START=$!
stop_it() {
  kill -TERM "$START" 2>/dev/null
  wait_for 20 sh -c "! kill -0 $START 2>/dev/null"
  # whatever this test left in the system queue goes (it was empty before)
  find "$Q/mess" "$Q/intd" "$Q/todo" "$Q/info" "$Q/local" "$Q/remote" "$Q/bounce" -type f -exec rm -f {} +
}
on_exit stop_it
wait_for 10 grep -q '^status: local' "$T/log" || fail "did not start: $(cat "$T/log")"

ids() { awk '/^Uid:/ {u=$2} /^Gid:/ {g=$2} END {print u":"g}' "/proc/$1/status"; }
cap() { awk '/^CapEff:/ {print $2}' "/proc/$1/status"; }
uid() { id -u "$1"; }
gid() { getent group "$1" | cut -d: -f3; }
qmail=$(gid qmail); nofiles=$(gid nofiles)
expect_eq "qmail-send" "$(ids $START)" "$(uid qmails):$qmail"
expect_eq "qmail-send CapEff" "$(cap $START)" 0000000000000000
for pair in todo-proc:qmails:qmail qmail-lspawn:0:qmail qmail-rspawn:qmailr:qmail cat:qmaill:nofiles; do
  name=${pair%%:*}; rest=${pair#*:}; u=${rest%%:*}; g=${rest#*:}
  [ "$u" = 0 ] || u=$(uid "$u")
  p=$(pgrep -P $START -x "$name" | head -n 1)
  [ -n "$p" ] || fail "no $name under qmail-send"
  expect_eq "$name" "$(ids "$p")" "$u:$(gid "$g")"
  [ "$u" = 0 ] || expect_eq "$name CapEff" "$(cap "$p")" 0000000000000000
done
n=0
for p in $(pgrep -P $START -x qmail-clean); do
  expect_eq "qmail-clean" "$(ids "$p")" "$(uid qmailq):$qmail"; n=$((n + 1))
done
expect_eq "qmail-clean count" $n 2
ok "uids and gids as DESIGN.md §1"

# Mail for the user is written as the user; a bounce is injected for bounce.
printf 'Subject: hi\n\nhello\n' > "$T/msg"; chmod 644 "$T/msg"
setpriv --reuid="$user" --regid="$(id -g "$user")" --clear-groups env CONTROLDIR="$T/control" \
  "$home/bin/qmail-inject" "$user@test.example" < "$T/msg" || fail "inject as $user"
! grep -q 'runs unprivileged' "$T/log" || fail "claims to run unprivileged: $(head -3 "$T/log")"
wait_for 15 sh -c "ls '$T/home/Maildir/new' | grep -q ." || fail "not delivered: $(tail "$T/log")"
f=$(ls "$T"/home/Maildir/new/* | head -n 1)
expect_eq "owner of the delivered file" "$(stat -c %U "$f")" "$user"
setpriv --reuid="$user" --regid="$(id -g "$user")" --clear-groups env CONTROLDIR="$T/control" \
  "$home/bin/qmail-inject" -f "$user@test.example" "nosuch$$@test.example" < "$T/msg" || fail "inject 2"
wait_for 20 grep -q '^bounce msg ' "$T/log" || fail "no bounce: $(tail "$T/log")"
wait_for 15 sh -c "grep -l 'invoked for bounce' '$T'/home/Maildir/new/* >/dev/null 2>&1" ||
  fail "bounce not delivered: $(tail "$T/log")"
ok "delivery as the user; bounce through the setuid qmail-queue"

kill -TERM $START
wait_for 20 grep -q '^status: exiting' "$T/log" || fail "no clean exit"
wait_for 10 sh -c "[ -z \"\$(find '$Q/mess' '$Q/info' '$Q/todo' -type f | head -n 1)\" ]" || fail "queue not empty"
