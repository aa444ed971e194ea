#!/bin/sh
# Path finding interop test: the unmodified jingtum-lib Remote (signing locally) runs
# pathfind_scenario.js against a fresh jt-node on loopback: requestPathFind (path_find create,
# then close), and payments built with setPath(key) from the alternatives it returns.
# Run by scripts/run-tests.sh with JT_BUILD set; prints TAP-like "ok"/"not ok" lines.
set -u
what="path finding interop test"; tag=pathfind-interop
. "$(cd "$(dirname "$0")" && pwd)/node_start.sh"

if run_scenario jingtum 60 pathfind_scenario.js "$url"; then
  ok "jt-node still running after the path finding scenario"
fi
[ $fails -eq 0 ]
