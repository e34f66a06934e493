# As root, qmail-lspawn really becomes each recipient's user: a temporary
# account found by qmail-getpw's rules (no users/assign) gets its mail as its
# own uid with only its own group, a users/assign entry for uid 0 is refused,
# and a message not owned by qmailq is refused.
. "$(dirname "$0")/lib.sh"
need_root "switches users"
id qmailq > /dev/null 2>&1 || skip "needs the qmailq user (package/users)"
command -v useradd > /dev/null || skip "needs useradd"
export CONTROLDIR=$T/control QMAILHOME=$T/qh
mkdir -p "$CONTROLDIR" "$QMAILHOME/users"
unset QFLEET_EMBEDDED
Q=$T/queue
mkqueue "$Q" -s 7
export QUEUEDIR=$Q CONFSPLIT=7

u=qft$$
useradd -M -d "$T/$u" -s /bin/sh -U "$u" 2> "$T/useradd.err" || skip "useradd failed: $(cat "$T/useradd.err")"
remove_user() { userdel "$u" 2>/dev/null; groupdel "$u" 2>/dev/null; }
on_exit remove_user
uid=$(id -u "$u") gid=$(id -g "$u")
mkdir -m 755 "$T/$u"
mkdir -p "$T/$u/Maildir/tmp" "$T/$u/Maildir/new" "$T/$u/Maildir/cur"
cat > "$T/$u/.qmail-prog" <<'EOF'
|id -u > ids; id -g >> ids; id -G >> ids; echo "$USER $HOME" >> ids
EOF
chown -R "$u:$u" "$T/$u"

envelope s@x r@y > "$T/env"
printf 'Subject: as a user\n\nbody\n' | "$BIN/qmail-queue" 1< "$T/env" || fail "qmail-queue"
m=$(ls "$Q"/mess/*/*)
id=$(basename "$m")
chown qmailq "$m"
TAB=$(printf '\t')
line() { (IFS=$TAB; echo "$*"); }
drive() { "$HELPERS/spawn-drive" "$@" "$BIN/qmail-lspawn" ./Maildir/ 2> "$T/lspawn.err"; }
want_line() { printf '%s\n' "$1" | grep -qx "$2" || fail "$3: no line '$2' in: $1"; }

# 1. qmail-getpw's rules: the user, and the user with an extension.
out=$({ line 0 "$id" s@x "$u@example.com"; line 1 "$id" s@x "$(echo "$u" | tr a-z A-Z)-Prog@example.com"; } | drive)
want_line "$out" "0 0 K did 1+0+0\\\\n" "plain user"
want_line "$out" "1 0 K did 0+0+1\\\\n" "user-ext"
f=$(ls "$T/$u/Maildir/new")
expect_eq "delivered as the user" "$(stat -c %u "$T/$u/Maildir/new/$f")" "$uid"
expect_eq "identity of the program" "$(cat "$T/$u/ids")" "$uid
$gid
$gid
$u $T/$u"
[ -s "$T/lspawn.err" ] && grep -q "embedded" "$T/lspawn.err" && fail "root ran embedded"
ok "real user switch: uid $uid, gid $gid, no other groups"

# A forward runs qmail-queue as the user: found beside us after the switch
# (it then cannot write this root-owned scratch queue: a temporary failure).
printf '&elsewhere@example.org\n' > "$T/$u/.qmail-fwd"; chown "$u" "$T/$u/.qmail-fwd"
out=$(line 0 "$id" s@x "$u-fwd@example.com" | drive)
printf '%s\n' "$out" | grep -q '^0 0 Z Unable to forward message: qq ' || fail "forward as the user: $out"
printf '%s\n' "$out" | grep -q 'unable to run qq' && fail "qmail-queue not found after the switch: $out"
ok "forward: qmail-queue runs as the user"

# 2. USE_SETGROUPS gives the supplementary groups.
groupadd "${u}x" 2>/dev/null && usermod -a -G "${u}x" "$u" || skip "groupadd failed"
remove_group() { groupdel "${u}x" 2>/dev/null; }
on_exit remove_group
xgid=$(getent group "${u}x" | cut -d: -f3)
out=$(line 0 "$id" s@x "$u-prog@example.com" | USE_SETGROUPS=1 drive)
want_line "$out" "0 0 K did 0+0+1\\\\n" "USE_SETGROUPS=1"
sed -n 3p "$T/$u/ids" | tr ' ' '\n' | grep -qx "$xgid" || fail "supplementary group missing: $(cat "$T/$u/ids")"
out=$(line 0 "$id" s@x "$u-prog@example.com" | USE_SETGROUPS="nobody:$u" drive)
sed -n 3p "$T/$u/ids" | tr ' ' '\n' | grep -qx "$xgid" || fail "USE_SETGROUPS list: $(cat "$T/$u/ids")"
out=$(line 0 "$id" s@x "$u-prog@example.com" | USE_SETGROUPS="nobody" drive)
expect_eq "USE_SETGROUPS without the user" "$(sed -n 3p "$T/$u/ids")" "$gid"
ok "USE_SETGROUPS"

# 3. Never as root; and the message must belong to qmailq.
printf '=toor:root:0:0:%s:::\n.\n' "$T/$u" > "$QMAILHOME/users/assign"
out=$(line 0 "$id" s@x toor@example.com | drive)
want_line "$out" "0 0 Z Not allowed to perform deliveries as root. (#4.3.0)\\\\n" "uid 0"
rm "$QMAILHOME/users/assign"
chown 0 "$m"
out=$(line 0 "$id" s@x "$u@example.com" | drive)
want_line "$out" "0 0 Z Sorry, message has wrong owner. (#4.3.5)\\\\n" "message owned by root"
ok "no delivery as root; message owner checked"
exit 0
