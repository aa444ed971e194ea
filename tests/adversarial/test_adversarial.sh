#!/bin/sh
# The adversarial suite (docs/operations.md, "What an attack looks like"):
# real jt-node processes against hostile clients and careless operators
# (adversarial.js), then the rows that apply to HTTP against a real
# jt-gateway's listener (gw_adversarial.js).
# It runs the optimized build (build/, made here if needed): the latency a
# well-behaved client sees beside an attacker is a property of the node as
# deployed, and the sanitizers' own cost would swamp it. CI runs the short
# form; `make adversarial` runs the sizes of the table (ADV_FULL=1).
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${JT_ADV_BUILD:-$root/build}
if ! command -v node >/dev/null 2>&1; then echo "# SKIP adversarial suite: node (Node.js) is not installed"; exit 0; fi
if [ ! -d "$here/../interop/node_modules/ws" ]; then
  (cd "$here/../interop" && npm ci --no-audit --no-fund --loglevel=error >/dev/null 2>&1)
fi
if ! make -C "$root" --no-print-directory -j2 BUILD="$build" all "$build/tests/jtpcat" >/dev/null 2>&1; then
  echo "not ok [adversarial] the optimized build ($build) fails"; exit 1
fi
rc=0
node "$here/adversarial.js" "$build" || rc=1
node "$here/gw_adversarial.js" "$build" || rc=1
exit $rc
