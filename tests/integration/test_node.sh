#!/bin/sh
# Integration tests of jt-node over both transports (WebSocket and jtp):
# every transaction type's success and main failures, queries, bad input;
# order-book queries and streams (node_book.js); path finding (node_pathfind.js);
# who is admin, and stop (node_admin.js); account subscriptions and their
# limits (node_subs.js).
set -u
here=$(cd "$(dirname "$0")" && pwd)
build=${JT_BUILD:-build/test}
if ! command -v node >/dev/null 2>&1; then echo "# SKIP node not found"; exit 0; fi
if [ ! -d "$here/../interop/node_modules/ws" ]; then
  (cd "$here/../interop" && npm ci --no-audit --no-fund --loglevel=error >/dev/null 2>&1)
fi
rc=0
for t in ws jtp; do
  node "$here/node_txs.js" "$build" "$t" || rc=1
done
# Order books (queries and streams); the transport is node_txs.js's concern.
node "$here/node_book.js" "$build" || rc=1
# Path finding (skywell_path_find, path_find and its updates).
node "$here/node_pathfind.js" "$build" || rc=1
# [admin] addresses; ledger_accept, submit with a secret and stop for admins only.
node "$here/node_admin.js" "$build" || rc=1
# Request budgets per connection and per address.
node "$here/node_budget.js" "$build" || rc=1
# Idle connections are closed unless they hold subscriptions.
node "$here/node_idle.js" "$build" || rc=1
# Account subscriptions: fan-out by account, limits.
node "$here/node_subs.js" "$build" || rc=1
exit $rc
