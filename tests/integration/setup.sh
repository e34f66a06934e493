# As root: make setup installs under conf-qmail from package/hier, check
# reports it clean, a deviation is reported, and the installed setuid
# qmail-queue takes mail from an ordinary user into the real queue while
# refusing to be moved elsewhere by the environment.
. "$(dirname "$0")/lib.sh"
need_root "installs under conf-qmail"
home=$(head -n 1 "$TOP/conf-qmail")
cd "$TOP"
package/users || fail "package/users"
package/users || fail "package/users is not idempotent"
package/install > "$T/install.log" 2>&1 || fail "install: $(cat "$T/install.log")"
package/check > "$T/check.log" 2>&1 || fail "check after install: $(cat "$T/check.log")"
grep -q "is clean" "$T/check.log" || fail "no clean report"
ok "installed and clean"

chmod 0755 "$home/bin/qmail-queue"
chmod 0777 "$home/queue/todo"
package/check > "$T/check.log" 2>&1; expect_eq "check on deviations" $? 1
grep -q "$home/bin/qmail-queue has mode 755 (want 4711)" "$T/check.log" || fail "mode deviation: $(cat "$T/check.log")"
grep -q "queue $home/queue is not clean" "$T/check.log" || fail "queue deviation: $(cat "$T/check.log")"
package/install > /dev/null 2>&1 || fail "reinstall"
package/check > /dev/null 2>&1 || fail "not clean after reinstall"
ok "deviations reported, reinstall repairs"

# The setuid qmail-queue, called by nobody.
printf 'Subject: setuid\n\nfrom nobody\n' > "$T/msg"
envelope nobody@example.org u@example.net > "$T/env"
chmod 644 "$T/msg" "$T/env"
asnobody() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }
before=$(find "$home/queue/todo" -type f | wc -l)
asnobody env - "$home/bin/qmail-queue" < "$T/msg" 1< "$T/env"; expect_eq "setuid inject" $? 0
after=$(find "$home/queue/todo" -type f | wc -l)
expect_eq "one more in todo" "$after" $((before + 1))
new=$(find "$home/queue/mess" -type f -newer "$T/env" | head -n 1)
expect_eq "owner of the message" "$(stat -c %U "$new")" qmailq
grep -q "invoked by uid 65534" "$new" || fail "Received line: $(head -n 1 "$new")"
mkdir -p "$T/evil"; mkqueue "$T/evil/q"
asnobody env QUEUEDIR="$T/evil/q" "$home/bin/qmail-queue" < "$T/msg" 1< "$T/env"; expect_eq "QUEUEDIR outside the base" $? 62
expect_eq "nothing in the foreign queue" "$(find "$T/evil/q/todo" -type f | wc -l)" 0
asnobody env QMAILHOME="$T/evil" QUEUE_BASE="$T/evil" "$home/bin/qmail-queue" < "$T/msg" 1< "$T/env"; expect_eq "QMAILHOME ignored" $? 0
expect_eq "still the real queue" "$(find "$home/queue/todo" -type f | wc -l)" $((before + 2))
# leave the real queue as we found it
for f in $(find "$home/queue/todo" -type f -newer "$T/env"); do
  id=$(basename "$f"); rm -f "$f" "$home/queue/intd/$id" "$home"/queue/mess/*/"$id"
done
ok "setuid qmail-queue honours no environment that moves it"
