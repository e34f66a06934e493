# Every program in bin/ has a man page in man/ and an entry in package/hier;
# every man page is installed; every man page renders without warnings.
. "$(dirname "$0")/lib.sh"
cd "$TOP"
for p in bin/*; do
  n=$(basename "$p")
  ls man/"$n".[1-8] >/dev/null 2>&1 || fail "bin/$n has no man page"
  grep -Eq "^c +bin/$n " package/hier || fail "bin/$n is not in package/hier"
  grep -q "EXIT CODES" man/"$n".[1-8] || fail "man page of $n has no EXIT CODES section"
done
for m in man/*.[1-8]; do
  b=$(basename "$m"); s=${b##*.}
  grep -Eq "^c +man/man$s/$b " package/hier || fail "$m is not in package/hier"
  if command -v groff >/dev/null 2>&1; then
    w=$(groff -man -Tutf8 -ww "$m" 2>&1 >/dev/null)
    [ -z "$w" ] || fail "$m: $w"
  fi
done
ok "$(ls bin | wc -l) programs, $(ls man | wc -l) man pages"
