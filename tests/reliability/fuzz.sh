# Issue 11 and reliability.md 3.10: every parser under libFuzzer with ASan and
# UBSan (tests/fuzz/README). Builds the targets (make fuzz-build, clang), then
# tests/fuzz/run replays each target's seed corpus and regressions
# (tests/fuzz/corpus/NAME, tests/fuzz/regressions/NAME) and fuzzes it for
# FUZZ_SECONDS_CHECK seconds (6), two targets at a time: 14 targets, 7 rounds,
# about 2 minutes on 2 cores with the clang build (80 s of it). Fails naming
# each target that crashed or broke an invariant; its input stays in
# obj/tests/logs/fuzz/NAME/.
. "$(dirname "$0")/../integration/lib.sh"
command -v clang++ >/dev/null || skip "needs clang++ (package/deps test: clang)"
printf 'extern "C" int LLVMFuzzerTestOneInput(const unsigned char*, unsigned long) { return 0; }\n' > "$T/probe.cc"
clang++ -fsanitize=fuzzer,address,undefined -o "$T/probe" "$T/probe.cc" > "$T/probe.log" 2>&1 ||
  skip "clang++ cannot link -fsanitize=fuzzer,address,undefined (package/deps test: libclang-rt-14-dev)"

cd "$TOP" || fail "cd $TOP"
# Not the jobserver of a make that may have started make check.
unset MAKEFLAGS MFLAGS MAKELEVEL
n=$(ls tests/fuzz/*_fuzz.cc | wc -l)
start=$(date +%s)
make --no-print-directory -j2 fuzz-build > "$T/build.log" 2>&1 ||
  { tail -n 30 "$T/build.log"; fail "make fuzz-build"; }
echo "built $n fuzz targets in $(( $(date +%s) - start ))s"

out=$TOP/obj/tests/logs/fuzz
rm -rf "$out"
tests/fuzz/run -t "${FUZZ_SECONDS_CHECK:-6}" -c "$T/corpus" -o "$out" > "$T/run.log" 2>&1
rc=$?
cat "$T/run.log"
[ "$(grep -c '^ok ' "$T/run.log")" = "$n" ] && [ $rc = 0 ] ||
  fail "fuzz targets failed: $(sed -n 's/^FAIL \([^:]*\):.*/\1/p' "$T/run.log" | tr '\n' ' ')(inputs and logs in $out)"
ok "$n fuzz targets: corpus and regressions replayed, ${FUZZ_SECONDS_CHECK:-6}s each without a crash ($(( $(date +%s) - start ))s in all)"
