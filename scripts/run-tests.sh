#!/bin/sh
# Runs every test of the suite against the build in $BUILD (default build/test)
# and ends with one summary line: "N passed, N failed".
#
#   unit         each build/test/tests/test_* (cmocka; every case counts),
#                test_jn_engine running the fixtures in tests/engine
#   integration  tests/integration/*.sh (each script counts its own cases)
#   interop      tests/interop/run.sh (needs node and npm; skipped with a
#                visible message when they are missing)
#   adversarial  tests/adversarial/test_adversarial.sh, in its short form
#
# A script test prints lines "ok NAME" / "not ok NAME"; those are counted.
set -u
BUILD=${BUILD:-build/test}
export JT_BUILD="$BUILD"
export JT_VECTORS="${JT_VECTORS:-$(pwd)/tests/vectors}"
export JT_ENGINE_FIXTURES="${JT_ENGINE_FIXTURES:-$(pwd)/tests/engine}"
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
LOG=$BUILD/test-logs
mkdir -p "$LOG"
passed=0; failed=0; failed_names=""

count_cmocka() { # $1 = log file, $2 = exit status, $3 = name
  p=$(sed -n 's/^\[  PASSED  \] \([0-9][0-9]*\) test.*/\1/p' "$1" | tail -1)
  f=$(sed -n 's/^\[  FAILED  \] \([0-9][0-9]*\) test.*/\1/p' "$1" | tail -1)
  p=${p:-0}; f=${f:-0}
  if [ "$2" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi   # crashed or sanitizer abort
  passed=$((passed + p)); failed=$((failed + f))
  [ "$f" -ne 0 ] && failed_names="$failed_names $3"
}

count_script() { # $1 = log file, $2 = exit status, $3 = name
  p=$(grep -c '^ok ' "$1"); f=$(grep -c '^not ok ' "$1")
  if [ "$2" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
  passed=$((passed + p)); failed=$((failed + f))
  [ "$f" -ne 0 ] && failed_names="$failed_names $3"
}

echo "== unit tests"
for t in "$BUILD"/tests/test_*; do
  [ -x "$t" ] || continue
  name=$(basename "$t")
  "$t" > "$LOG/$name.log" 2>&1; rc=$?
  count_cmocka "$LOG/$name.log" $rc "$name"
  if [ $rc -ne 0 ]; then echo "FAIL $name"; cat "$LOG/$name.log"; else
    echo "ok   $name ($(grep -c '^\[       OK \]' "$LOG/$name.log") cases)"; fi
done

for kind in integration interop adversarial; do
  for s in tests/$kind/test_*.sh; do
    [ -f "$s" ] || continue
    name="$kind/$(basename "$s" .sh)"
    echo "== $name"
    sh "$s" > "$LOG/$(basename "$s").log" 2>&1; rc=$?
    count_script "$LOG/$(basename "$s").log" $rc "$name"
    grep -E '^(ok|not ok|# SKIP|# seed|# figures)' "$LOG/$(basename "$s").log" | sed 's/^/   /' | tail -40
    if [ $rc -ne 0 ]; then echo "FAIL $name"; tail -30 "$LOG/$(basename "$s").log"; fi
  done
done

[ -n "$failed_names" ] && echo "failed:$failed_names"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
