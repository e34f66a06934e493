# bench/lib/postfix.sh: a private Postfix instance for the benchmarks (POSIX sh).
#
# The system's Postfix (/etc/postfix, /var/spool/postfix) is never read for
# its settings, written or started: everything lives under one scratch
# directory DIR and every command names it with -c / -C:
#
#   DIR/etc/main.cf, master.cf, transport   config_directory
#   DIR/spool                              queue_directory (made by postfix check)
#   DIR/data                               data_directory
#   DIR/maillog                            maillog_file (postlogd), one line per event
#   DIR/home                               the bench user's home: DIR/home/Maildir/
#
# The settings, and why each differs from Postfix's default (if it does):
#   - inet_interfaces = 127.0.0.1, inet_protocols = ipv4, and smtpd listens on
#     127.0.0.1:$PF_SMTP_PORT only (master.cf): loopback only, never port 25.
#   - mydestination = $BENCH_DOMAIN; home_mailbox = Maildir/ (local(8)
#     delivers to ~/Maildir/new as the recipient user); alias_maps empty (no
#     /etc/aliases.db in the scratch instance; qfleet has no alias lookup in
#     the bench path either).
#   - transport_maps sends $BENCH_SINK_DOMAIN to smtp:[127.0.0.1]:$SINK_PORT,
#     where an smtp-sink listens during the SMTP scenarios.
#   - mynetworks = 127.0.0.0/8: smtp-source on loopback may relay (the default
#     smtpd_relay_restrictions start with permit_mynetworks).
#   - biff = no, append_dot_mydomain = no: what Debian's own main.cf sets.
#   - chroot off in master.cf (column 5 "n"), as in upstream Postfix; Debian's
#     chroot would need copies of /etc files inside the scratch spool.
#   - Everything else is Postfix 3.7's default, on purpose:
#       default_process_limit = 100
#       local_destination_concurrency_limit = 2 (per recipient: with one bench
#         user, at most 2 parallel local deliveries), local_destination_recipient_limit = 1
#       default_destination_concurrency_limit = 20 (the sink), initial_destination_concurrency = 5
#       default_destination_recipient_limit = 50 (recipients per SMTP transaction)
#       smtp_connection_cache_on_demand = yes, smtpd_peername_lookup = yes
#     Sync semantics are the default too: cleanup fsyncs each queue file
#     before it says yes, local(8) fsyncs each Maildir file.
#   - Postfix's own processes run as postfix (mail_owner) with setgid
#     postdrop, as installed. sendmail(1) with -C runs as root: Postfix lets
#     only root point its set-gid postdrop at a non-default config directory.

PF_SBIN=/usr/sbin

# pf_missing: names the Postfix programs the harness needs that are missing
# (empty when all are there).
pf_missing() {
  _m=
  for _p in postfix postconf sendmail smtp-sink smtp-source; do
    [ -x "$PF_SBIN/$_p" ] || _m="$_m $_p"
  done
  echo "${_m# }"
}

pf_version() { "$PF_SBIN/postconf" -dh mail_version 2>/dev/null; }

# pf_create DIR: writes the configuration (uses BENCH_USER, BENCH_DOMAIN,
# BENCH_SINK_DOMAIN, PF_SMTP_PORT, SINK_PORT) and lets postfix check create
# the queue. The bench user's passwd home must be DIR/home (bench_user_home).
pf_create() {
  _d=$1
  mkdir -p "$_d"; topdir "$_d"
  mkdir -p "$_d/etc" "$_d/spool" "$_d/data" "$_d/home"
  chmod 755 "$_d" "$_d/etc" "$_d/home"
  chown "$BENCH_USER:" "$_d/home"
  chown postfix: "$_d/data"
  cat > "$_d/etc/main.cf" <<EOT
# Private Postfix instance of qfleet's bench; see bench/lib/postfix.sh.
compatibility_level = 3.6
queue_directory = $_d/spool
data_directory = $_d/data
mail_owner = postfix
setgid_group = postdrop
syslog_name = postfix-qfbench
maillog_file = $_d/maillog
myhostname = mx.$BENCH_DOMAIN
mydomain = $BENCH_DOMAIN
myorigin = \$mydomain
mydestination = $BENCH_DOMAIN
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
home_mailbox = Maildir/
alias_maps =
alias_database =
biff = no
append_dot_mydomain = no
transport_maps = texthash:$_d/etc/transport
EOT
  echo "$BENCH_SINK_DOMAIN smtp:[127.0.0.1]:$SINK_PORT" > "$_d/etc/transport"
  cat > "$_d/etc/master.cf" <<EOT
# Private Postfix instance of qfleet's bench; see bench/lib/postfix.sh.
# service type  private unpriv  chroot  wakeup  maxproc command + args
127.0.0.1:$PF_SMTP_PORT inet n - n - - smtpd
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
proxywrite unix -       -       n       -       1       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
        -o syslog_name=postfix-qfbench/\$service_name
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
local     unix  -       n       n       -       -       local
virtual   unix  -       n       n       -       -       virtual
lmtp      unix  -       -       n       -       -       lmtp
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
EOT
  : > "$_d/maillog"
  "$PF_SBIN/postfix" -c "$_d/etc" check > "$_d/check.log" 2>&1 || {
    cat "$_d/check.log" >&2
    die "postfix -c $_d/etc check failed"
  }
  # Without a journal queue-fix gives qfleet's queue synchronous directories
  # (a power cut loses mail without them); Postfix runs as it ships, without.
  # BENCH_PF_DIRSYNC=1 gives its spool the same (subdirectories made later
  # inherit the flag), to compare the two at the same durability.
  if [ "${BENCH_PF_DIRSYNC:-0}" = 1 ] && journal_less "$_d/spool"; then
    find "$_d/spool" -type d -exec chattr +D {} + || die "chattr +D on $_d/spool failed"
  fi
}

# pf_running DIR: true when the instance's master runs.
pf_running() { "$PF_SBIN/postfix" -c "$1/etc" status >/dev/null 2>&1; }

# pf_start DIR: starts the instance and waits until its master and the
# delivery pipeline (qmgr, pickup) run and smtpd's port listens.
pf_start() {
  $(cg_exec) "$PF_SBIN/postfix" -c "$1/etc" start >> "$1/start.log" 2>&1 9>&- || {
    cat "$1/start.log" >&2; die "postfix -c $1/etc start failed"
  }
  wait_for 20 pf_ready "$1" || die "Postfix in $1 did not become ready (log: $1/maillog)"
}

pf_ready() {
  pf_running "$1" || return 1
  port_listening "$PF_SMTP_PORT" || return 1
  _qp=0
  for _p in $(procs_under "$1/spool"); do
    case $(cat "/proc/$_p/comm" 2>/dev/null) in qmgr|pickup) _qp=$((_qp + 1)) ;; esac
  done
  [ "$_qp" -ge 2 ]
}

# pf_stop DIR: stops the instance and waits until every process of it is gone.
pf_stop() {
  if pf_running "$1"; then
    "$PF_SBIN/postfix" -c "$1/etc" stop >> "$1/start.log" 2>&1 ||
      "$PF_SBIN/postfix" -c "$1/etc" abort >> "$1/start.log" 2>&1
  fi
  [ -d "$1/spool" ] && reap_under "$1/spool" 15
  return 0
}

# pf_destroy DIR: stops it and retires everything (removed at exit).
pf_destroy() {
  [ -d "$1" ] || return 0
  pf_stop "$1"
  retire "$1"
}

# pf_sendmail DIR args...: Postfix's sendmail(1) against the instance.
pf_sendmail_cmd() { echo "$PF_SBIN/sendmail -C $1/etc"; }

# pf_sent DIR: deliveries the log reports as done (status=sent).
pf_sent() { grep -c ' status=sent ' "$1/maillog" 2>/dev/null || true; }

# pf_maildir DIR: the bench user's Maildir of this instance.
pf_maildir() { echo "$1/home/Maildir"; }

# pf_queue_empty DIR: true when nothing is left in the instance's queues.
pf_queue_empty() {
  [ -z "$(find "$1/spool/maildrop" "$1/spool/incoming" "$1/spool/active" "$1/spool/deferred" -type f 2>/dev/null | head -n 1)" ]
}
