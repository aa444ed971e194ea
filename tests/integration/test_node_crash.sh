#!/bin/sh
# Crash safety of jt-node (ARCHITECTURE.md, "Ledger (jt-node)"): with a steady
# stream of payments, kill -9 jt-node at random moments 20 times; after each
# restart `jt-node verify` passes, every transaction that was in a ledger
# announced as closed before the kill is still there, and all SWT balances
# add up to total coins minus burned fees. The work is in crash_driver.js.
#
#   JT_BUILD          build whose bin/jt-node and bin/jt-wallet are tested (build/test)
#   JT_SEED           reuses the random kill delays of a run (printed as "# seed N")
#   JT_CRASH_ROUNDS   number of kills (20)
#   JT_CRASH_KEEP=1   keep the temporary directory (node log, failed stores)
set -u
BIN=${JT_BUILD:-build/test}/bin

if ! command -v node >/dev/null 2>&1; then
  echo "# SKIP node crash test: node (Node.js) is not installed"; exit 0
fi
HERE=$(cd "$(dirname "$0")" && pwd)
if [ ! -d "$HERE/../interop/node_modules/ws" ]; then
  echo "# SKIP node crash test: tests/interop/node_modules/ws is missing (npm ci in tests/interop)"; exit 0
fi
for b in jt-node jt-wallet; do
  if [ ! -x "$BIN/$b" ]; then echo "not ok node crash test: $BIN/$b is not built"; exit 1; fi
done

T=$(mktemp -d)
DRIVER=
cleanup() {
  [ -n "$DRIVER" ] && kill "$DRIVER" 2>/dev/null
  [ -f "$T/node.pid" ] && kill -9 "$(cat "$T/node.pid")" 2>/dev/null
  if [ "${JT_CRASH_KEEP:-0}" = 1 ]; then echo "# kept $T"; else rm -rf "$T"; fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

if ! "$BIN/jt-node" init --data "$T/data" >"$T/init.log" 2>&1; then
  echo "not ok jt-node init"; sed 's/^/#   /' "$T/init.log"; exit 1
fi

node "$HERE/crash_driver.js" "$BIN" "$T/data" "$T" &
DRIVER=$!
wait "$DRIVER"; rc=$?
DRIVER=
exit $rc
