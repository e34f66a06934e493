# Routing through real DNS: Debian's unbound serves a test zone on
# 127.83.0.1:53 (as root; DNSCACHEIP points libowfat's resolver at it).
# MX preference order with fallback to the next MX on a refused connection,
# no MX -> the domain's A record, a relay looked up by name, "MX points back
# to me" (#5.4.6), NXDOMAIN (#5.1.2). The sink listens on a high port: the
# smtproutes form "domain::port" keeps MX routing but changes the port.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/remote-common"
is_root || skip "needs root to bind port 53 for unbound"
UNBOUND=$(command -v unbound || echo /usr/sbin/unbound)
[ -x "$UNBOUND" ] || skip "no unbound (Debian package unbound; package/deps test installs it)"
DNS=127.83.0.1

port=$(free_port)
start_sink sink "$port" -c
mkdir -p "$T/unbound"
cat > "$T/unbound/unbound.conf" <<EOC
server:
  interface: $DNS
  port: 53
  do-ip6: no
  do-daemonize: no
  username: ""
  chroot: ""
  directory: "$T/unbound"
  pidfile: ""
  use-syslog: no
  logfile: "$T/unbound/log"
  verbosity: 1
  access-control: 127.0.0.0/8 allow
  module-config: "iterator"
  local-zone: "qfleet.test." static
  local-data: "two.qfleet.test. MX 10 dead.qfleet.test."
  local-data: "two.qfleet.test. MX 20 live.qfleet.test."
  local-data: "dead.qfleet.test. A 127.0.0.2"
  local-data: "live.qfleet.test. A 127.0.0.1"
  local-data: "noma.qfleet.test. A 127.0.0.1"
  local-data: "loop.qfleet.test. MX 10 me.qfleet.test."
  local-data: "loop.qfleet.test. MX 20 live.qfleet.test."
  local-data: "me.qfleet.test. A 127.0.0.1"
remote-control:
  control-enable: no
EOC
"$UNBOUND" -d -c "$T/unbound/unbound.conf" > "$T/unbound/out" 2>&1 &
unbound_pid=$!
stop_unbound() { kill $unbound_pid 2>/dev/null; wait $unbound_pid 2>/dev/null; }
on_exit stop_unbound
wait_for 10 sh -c "ss -Huln 'sport = :53' | grep -q '$DNS'" || fail "unbound did not start: $(cat "$T/unbound/out" "$T/unbound/log" 2>/dev/null)"
export DNSCACHEIP=$DNS

echo me.qfleet.test > "$CONTROLDIR/me"
cat > "$CONTROLDIR/smtproutes" <<EOC
two.qfleet.test::$port
noma.qfleet.test::$port
loop.qfleet.test::$port
nx.qfleet.test::$port
relay.example:live.qfleet.test:$port
EOC
printf 'Subject: dns\n\nbody\n' > "$T/msg"
r() { remote "$1" s@qfleet.test "a@$1" < "$T/msg"; }

# MX 10 is refused, MX 20 takes it.
out=$(r two.qfleet.test)
case $out in "r|K127.0.0.1 accepted message."*) ;; *) fail "MX fallback: $out" ;; esac
out=$(r noma.qfleet.test)
case $out in "r|K127.0.0.1 accepted message."*) ;; *) fail "no MX, A record: $out" ;; esac
out=$(r relay.example)
case $out in "r|K127.0.0.1 accepted message."*) ;; *) fail "relay by name: $out" ;; esac
# The best MX is me: nothing better to try, permanent (as qmail).
out=$(r loop.qfleet.test)
case $out in "DSorry. Although I'm listed as a best-preference MX or A for that host,"*"(#5.4.6)"*) ;;
  *) fail "MX points back to me: $out" ;; esac
out=$(r nx.qfleet.test)
case $out in "DSorry, I couldn't find any host named nx.qfleet.test. (#5.1.2)"*) ;; *) fail "NXDOMAIN: $out" ;; esac
sleep 0.3
eval "$(counters sink)"
expect_eq "messages at the sink" "$mesg" 3
# The refused MX was not marked dead (a refusal is not a timeout).
expect_eq "tcpto" "$("$BIN/qmail-tcpto")" ""
ok "MX order and fallback, A fallback, relay by name, MX-is-me, NXDOMAIN through unbound"
