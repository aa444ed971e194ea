#!/bin/sh
# Crash safety of jt-gateway's reliable submission (gateway/submit.h): a
# client streams payments through a real jt-gateway to a real jt-node while
# the gateway is killed with SIGKILL at random moments and restarted, 20
# times; every answer must hold after each restart, and on the node no
# request is applied twice and none reported validated is missing. The
# work is in gw_crash.js.
#
#   JT_BUILD            build whose bin/ is tested (build/test)
#   JT_SEED             reuses the random delays of a run (printed as "# seed N")
#   JT_GW_CRASH_ROUNDS  number of kills (20)
set -u
here=$(cd "$(dirname "$0")" && pwd)
build=${JT_BUILD:-build/test}
if ! command -v node >/dev/null 2>&1; then echo "# SKIP gateway crash test: node not found"; exit 0; fi
if [ ! -d "$here/../interop/node_modules/ws" ]; then
  (cd "$here/../interop" && npm ci --no-audit --no-fund --loglevel=error >/dev/null 2>&1)
fi
exec node "$here/gw_crash.js" "$build"
