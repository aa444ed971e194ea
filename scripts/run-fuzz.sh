#!/bin/sh
# Runs each libFuzzer target given on the command line for $FUZZ_SECONDS
# (default 60) over its corpus in tests/fuzz/corpus/<name>/ (new inputs go to
# build/fuzz/corpus/<name>/ so the repository's corpus stays small).
# Fails if any target finds a crash, leak or assertion.
set -u
secs=${FUZZ_SECONDS:-60}
status=0
for bin in "$@"; do
  name=$(basename "$bin"); name=${name#fuzz_}
  seed=tests/fuzz/corpus/$name; work=build/fuzz/corpus/$name
  mkdir -p "$seed" "$work" build/fuzz/artifacts
  echo "== fuzz $name for ${secs}s"
  if "$bin" -max_total_time="$secs" -print_final_stats=1 -artifact_prefix=build/fuzz/artifacts/"$name"- \
      "$work" "$seed" > "build/fuzz/$name.log" 2>&1; then
    grep -E 'stat::number_of_executed_units|Done [0-9]+ runs' "build/fuzz/$name.log" | tail -1
    echo "ok fuzz $name: no finding"
  else
    tail -40 "build/fuzz/$name.log"
    echo "not ok fuzz $name: finding (see build/fuzz/artifacts/)"
    status=1
  fi
done
exit $status
