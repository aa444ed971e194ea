#!/bin/sh
# Client interop acceptance test (PROTOCOL.md §6, §8.4): the unmodified jingtum-lib and swtc-lib
# Remotes, signing locally, run node_scenario.js against a fresh jt-node on loopback.
# Run by scripts/run-tests.sh with JT_BUILD set; prints TAP-like "ok"/"not ok" lines.
#   JT_NODE_INTEROP_KEEP=1   keep the node's data dir (path printed) instead of removing it
# The node's log and a trace of every WebSocket frame of each library end up in $JT_BUILD/test-logs/.
set -u
what="client interop test"; tag=node-interop
. "$(cd "$(dirname "$0")" && pwd)/node_start.sh"

# ---------------------------------------------------------------- the scenario, once per library
for lib in jingtum swtc; do
  run_scenario "$lib" 100 node_scenario.js "$lib" "$url" || break
done

if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then ok "jt-node still running after both scenarios"; fi
[ $fails -eq 0 ]
