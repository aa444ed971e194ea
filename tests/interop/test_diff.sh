#!/bin/sh
# Interop differential test: libjt against jingtum-lib and @swtc/* (PROTOCOL.md §8).
# Run by scripts/run-tests.sh with JT_BUILD set; prints TAP-like "ok"/"not ok" lines.
#   JT_INTEROP_SEED=N  reproduce a run      JT_INTEROP_N=N  transactions per type (1000)
set -u
here=$(cd "$(dirname "$0")" && pwd)
build=${JT_BUILD:-build/test}
case $build in /*) ;; *) build=$(pwd)/$build ;; esac
driver=$build/tests/jt-interop-driver

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  echo "# SKIP node/npm not found: interop differential test not run"
  exit 0
fi
if [ ! -x "$driver" ]; then
  echo "not ok interop driver missing: $driver (make BUILD=$build $driver)"
  exit 1
fi

# npm ci into tests/interop/node_modules, only when package-lock.json changed since the last install.
stamp=$here/node_modules/.jtkit-lock-stamp
if [ ! -f "$stamp" ] || ! cmp -s "$here/package-lock.json" "$stamp"; then
  echo "# npm ci (tests/interop)"
  if ! (cd "$here" && npm ci --no-audit --no-fund --loglevel=error >"$build/interop-npm-ci.log" 2>&1); then
    echo "not ok npm ci failed (log: $build/interop-npm-ci.log)"
    tail -20 "$build/interop-npm-ci.log" | sed 's/^/#   /'
    exit 1
  fi
  cp "$here/package-lock.json" "$stamp"
fi

cd "$here" && exec node diff.js "$driver"
