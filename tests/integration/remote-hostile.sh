# Hostile peers (reliability D10): an endless greeting line, a 10,000-line
# greeting, a non-numeric code, NUL and escape bytes in replies. Each gives a
# temporary failure, in bounded memory, with no control byte in the text.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/remote-common"
printf 'Subject: hostile\n\nbody\n' > "$T/msg"
echo 10 > "$CONTROLDIR/timeoutremote"

peer_pid=
stop_peer() { [ -n "$peer_pid" ] && kill "$peer_pid" 2>/dev/null; wait "$peer_pid" 2>/dev/null; peer_pid=; }
on_exit stop_peer
# hostile mode expected-pattern
hostile() {
  port=$(free_port)
  : > "$T/peer.out"
  "$HELPERS/hostile-peer" "$1" "$port" > "$T/peer.out" 2>&1 &
  peer_pid=$!
  wait_for 10 grep -q listening "$T/peer.out" || fail "hostile-peer $1 did not start"
  echo ":127.0.0.1:$port" > "$CONTROLDIR/smtproutes"
  out=$("$HELPERS/maxrss" "$BIN/qmail-remote" example.com s a@example.com < "$T/msg" 2> "$T/rss" | tr '\0' '|')
  stop_peer
  case $out in $2) ;; *) fail "$1: got '$out'" ;; esac
  case $out in *"$(printf '\033')"*) fail "$1: escape byte in the result" ;; esac
  rss=$(sed -n 's/^maxrss //p' "$T/rss")
  [ "${rss:-999999}" -lt 16384 ] || fail "$1: qmail-remote peaked at ${rss} KiB"
  echo "$1: ${rss} KiB"
}
hostile endless "ZConnected to 127.0.0.1 but its reply was unusable (reply too long)*|"
hostile manylines "ZConnected to 127.0.0.1 but its reply was unusable (reply has too many lines)*|"
hostile badcode "ZConnected to 127.0.0.1 but its reply was unusable (malformed reply)*|"
hostile nul "ZConnected to 127.0.0.1 but my name was rejected.*Remote host said: 421 bye??*|"
ok "hostile replies end in temporary failures with bounded memory"
