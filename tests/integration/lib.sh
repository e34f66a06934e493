# Sourced by every integration test: scratch space, assertions, helpers.
# A test exits 0 to pass, 77 to skip (last line says why), anything else fails.
set -u
TOP=$(cd "$(dirname "$0")/../.." && pwd)
BIN=$TOP/bin
HELPERS=$TOP/obj/tests/helpers
T=$(mktemp -d /tmp/qfit.XXXXXX)
chmod 755 "$T"
cleanup_hooks=
cleanup() {
  for h in $cleanup_hooks; do $h; done
  rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
on_exit() { cleanup_hooks="$1 $cleanup_hooks"; }

fail() { echo "FAIL: $*" >&2; exit 1; }
skip() { echo "$*"; exit 77; }
ok() { echo "ok: $*"; }
need_root() { [ "$(id -u)" = 0 ] || skip "needs root: $*"; }
is_root() { [ "$(id -u)" = 0 ]; }

# expect_eq what got want
expect_eq() { [ "$2" = "$3" ] || fail "$1: got '$2', want '$3'"; }

# mkqueue dir [queue-fix args]: a fresh queue.
mkqueue() { d=$1; shift; "$BIN/queue-fix" -q "$@" "$d" || fail "queue-fix $d"; }

# envelope sender rcpt...: writes qmail-queue's envelope to stdout.
envelope() {
  printf 'F%s\0' "$1"; shift
  for r in "$@"; do printf 'T%s\0' "$r"; done
  printf '\0'
}

# queue_snapshot dir: names, types, modes, sizes and checksums of everything.
queue_snapshot() {
  (cd "$1" && find . -printf '%p %y %m %s\n' | sort
   find . -type f -exec md5sum {} + | sort -k 2)
}

# wait_for seconds command...: polls until command succeeds.
wait_for() {
  n=$(( $1 * 10 )); shift
  while [ $n -gt 0 ]; do
    "$@" && return 0
    sleep 0.1; n=$((n - 1))
  done
  return 1
}
