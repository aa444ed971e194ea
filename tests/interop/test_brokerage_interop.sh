#!/bin/sh
# Platform fee interop test: the unmodified jingtum-lib Remote (signing locally) runs
# brokerage_scenario.js against a fresh jt-node on loopback: buildBrokerageTx, requestBrokerage
# (Fee_Info), offers with a platform, and the library's processed history of a fill with fees.
# Run by scripts/run-tests.sh with JT_BUILD set; prints TAP-like "ok"/"not ok" lines.
set -u
what="brokerage interop test"; tag=brokerage-interop
. "$(cd "$(dirname "$0")" && pwd)/node_start.sh"

if run_scenario jingtum 60 brokerage_scenario.js "$url"; then
  ok "jt-node still running after the brokerage scenario"
fi
[ $fails -eq 0 ]
