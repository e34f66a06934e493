# Sourced by package/install and package/check: reads package/hier and maps
# roles to the account names of conf-users and conf-groups.
cd "$(dirname "$0")/.." || exit 111
home=${1:-$(head -n 1 conf-qmail)}
set -- $(head -n 8 conf-users)
r_alias=$1 r_qmaild=$2 r_qmaill=$3 r_root=$4 r_qmailp=$5 r_qmailq=$6 r_qmailr=$7 r_qmails=$8
set -- $(head -n 2 conf-groups)
r_qmail=$1 r_nofiles=$2
user_of() { eval "echo \${r_$1:?unknown role $1}"; }
# hier_entries: prints "type path owner group mode source" with real names.
hier_entries() {
  grep -v '^[[:space:]]*#' package/hier | grep -v '^[[:space:]]*$' |
  while read -r type path owner group mode src; do
    echo "$type $path $(user_of "$owner") $(user_of "$group") $mode ${src:--}"
  done
}
