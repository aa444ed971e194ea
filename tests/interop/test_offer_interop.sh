#!/bin/sh
# Offer interop acceptance test: the unmodified jingtum-lib Remote (signing locally) runs
# offer_scenario.js against a fresh jt-node on loopback: buildOfferCreateTx (Sell and Buy, IOC,
# FOK), buildOfferCancelTx, requestOrderBook, requestAccountOffers, requestAccountTx (the library's
# processed history of every fill), balances. Expected values are skywelld's (offers cross).
# Run by scripts/run-tests.sh with JT_BUILD set; prints TAP-like "ok"/"not ok" lines.
#   JT_NODE_INTEROP_KEEP=1   keep the node's data dir (path printed) instead of removing it
#   JT_OFFER_ALL=1           run every step even after a step it depends on failed
# The node's log and a trace of every WebSocket frame end up in $JT_BUILD/test-logs/.
set -u
what="offer interop test"; tag=offer-interop
. "$(cd "$(dirname "$0")" && pwd)/node_start.sh"

# ---------------------------------------------------------------- the scenario
if run_scenario jingtum 80 offer_scenario.js "$url"; then
  ok "jt-node still running after the offer scenario"
fi
[ $fails -eq 0 ]
