#!/bin/sh
# jt-gateway when its node goes away (gw_nodedown.js): two WebSocket URLs,
# the first dead; failover both ways; writes answer 503 and sign nothing
# while no node is reachable; pending payments complete when it returns.
# Then gw_nodeerror.js: a node that answers, but not as expected (502).
set -u
here=$(cd "$(dirname "$0")" && pwd)
build=${JT_BUILD:-build/test}
if ! command -v node >/dev/null 2>&1; then echo "# SKIP gateway node test: node not found"; exit 0; fi
if [ ! -d "$here/../interop/node_modules/ws" ]; then
  (cd "$here/../interop" && npm ci --no-audit --no-fund --loglevel=error >/dev/null 2>&1)
fi
rc=0
node "$here/gw_nodedown.js" "$build" || rc=1
node "$here/gw_nodeerror.js" "$build" || rc=1
exit $rc
