#!/bin/sh
# bench/run.sh — what `make bench` runs (BUILD names the build tree).
#
#   1. bench_sign: libjt vs raw libsecp256k1 / libsodium, and the codec, each
#      pair interleaved inside one process (see bench/bench_sign.c).
#   2. jingtum-lib on node, interleaved round by round with a short libjt run
#      of the same payment, so both see the same machine load.
#   3. bench_node: jt-node under a load of pre-signed payments over jtp,
#      against libsecp256k1 verification on two threads (see
#      bench/bench_node.c and bench/node/).
#   4. bench_node --mode offers: OfferCreates that cross 1-3 offers of a
#      10 000-deep book, against the same ceiling measured in that run; and
#      book_offers (limit 20) on that book from concurrent clients.
#   5. bench_node --mode xpay: cross-currency payments (CNY delivered, SWT
#      spent) through one 10 000-deep book, against the same ceiling.
#   6. bench_node --mode pathfind: skywell_path_find answers per second
#      and their latency on a ledger of 1 000 accounts, 50 tokens and
#      20 000 offers (information: no target).
#   7. bench_gateway: jt-gateway's balance reads against nginx (one
#      worker) serving the same body, signed payments HTTP in -> validated
#      against libsecp256k1 sign+verify on two threads, the HTTP latency at
#      80 % of that rate, and the gateway's RSS (see bench/bench_gateway.c).
#   8. A summary block. The exit status is 1 when a benchmark failed, or
#      when the offers or the cross-currency payments did not cross, fill
#      or deliver, or the path_find answers held no path or their payments
#      did not deliver (a FAIL, not a BELOW).
#
# Environment: BENCH_SECONDS (bench_sign budget, default 20), JL_ROUNDS
# (default 3), JL_SECONDS (seconds per side per round, default 2),
# NODE_PAYMENTS (bench_node payments, default 600000), NODE_ROUNDS (default
# 3), NODE_ARGS (more bench_node options, e.g. "--track stream"),
# OFFERS_ARGS (more options of the offers run, e.g. "--round-seconds 10"),
# OFFERS=0 (skip the offers run), XPAY_ARGS (more options of the xpay run),
# XPAY=0 (skip the xpay run), PATHFIND_ARGS (more options of the pathfind
# run, e.g. "--pf-seconds 20"), PATHFIND=0 (skip the pathfind run),
# GATEWAY_ARGS (more options of bench_gateway, e.g. "--rounds 5"),
# GATEWAY=0 (skip bench_gateway).
set -eu

BUILD=${BUILD:-build}
BENCH_SECONDS=${BENCH_SECONDS:-20}
JL_ROUNDS=${JL_ROUNDS:-3}
JL_SECONDS=${JL_SECONDS:-2}
here=$(cd "$(dirname "$0")" && pwd)
bin=$BUILD/bench/bench_sign
[ -x "$bin" ] || { echo "run.sh: $bin not built (make bench)" >&2; exit 1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

echo "== bench_sign (${BENCH_SECONDS} s; ratios are medians of interleaved rounds)"
("$bin" --seconds "$BENCH_SECONDS" || echo "$?" >"$tmp/failed") | tee "$tmp/sign.txt"
[ ! -f "$tmp/failed" ] || { echo "run.sh: bench_sign failed" >&2; exit 1; }

# Median of the numbers on stdin, one a line.
median() {
    sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) exit 1;
        if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
# The number after "key": on the first line containing `line`.
json_num() {
    grep -F "$1" | head -n 1 | sed -n "s/.*\"$2\": *\([0-9.eE+-]*\).*/\1/p"
}

jl_line=
echo
echo "== jingtum-lib on node vs libjt (${JL_ROUNDS} interleaved rounds, ${JL_SECONDS} s each side)"
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    echo "node or npm not found: skipping the jingtum-lib comparison"
    jl_line="jingtum-lib on node: skipped (node/npm not installed)"
else
    if [ ! -f "$here/node_modules/jingtum-lib/package.json" ]; then
        echo "installing jingtum-lib 2.4.15 into bench/node_modules (npm ci)"
        (cd "$here" && npm ci --no-audit --no-fund --loglevel=error >"$tmp/npm.log" 2>&1) || {
            cat "$tmp/npm.log" >&2
            echo "npm ci failed" >&2
        }
    fi
    if [ ! -f "$here/node_modules/jingtum-lib/package.json" ]; then
        echo "jingtum-lib is not installed: skipping the jingtum-lib comparison"
        jl_line="jingtum-lib on node: skipped (npm ci failed)"
    else
        : >"$tmp/ratios"
        : >"$tmp/ratios_derive"
        : >"$tmp/jl"
        : >"$tmp/jt"
        : >"$tmp/jt_derive"
        r=1
        while [ "$r" -le "$JL_ROUNDS" ]; do
            # Alternate which side goes first.
            if [ $((r % 2)) -eq 1 ]; then order="jt jl"; else order="jl jt"; fi
            for side in $order; do
                if [ "$side" = jt ]; then
                    "$bin" --only jl --seconds "$JL_SECONDS" --rounds 2 --json >"$tmp/jt.json"
                else
                    # jingtum-lib prints noise lines on stdout; keep the JSON line only.
                    node "$here/jl_sign.js" --seconds "$JL_SECONDS" >"$tmp/jl.out" || {
                        echo "run.sh: jl_sign.js failed" >&2
                        exit 1
                    }
                    grep '^{' "$tmp/jl.out" >"$tmp/jl.json" || :
                fi
            done
            jt=$(json_num sign_payment_secp256k1 subject_per_s <"$tmp/jt.json")
            jtd=$(json_num sign_payment_derive subject_per_s <"$tmp/jt.json")
            jl=$(json_num '"jl_sign"' per_s <"$tmp/jl.json")
            [ -n "$jt" ] && [ -n "$jtd" ] && [ -n "$jl" ] || {
                echo "run.sh: could not read a result" >&2
                exit 1
            }
            echo "$jt" >>"$tmp/jt"
            echo "$jtd" >>"$tmp/jt_derive"
            echo "$jl" >>"$tmp/jl"
            awk -v a="$jt" -v b="$jl" 'BEGIN { print a / b }' >>"$tmp/ratios"
            awk -v a="$jtd" -v b="$jl" 'BEGIN { print a / b }' >>"$tmp/ratios_derive"
            printf '  round %d: libjt %.0f/s (deriving the key each time %.0f/s), jingtum-lib %.1f/s\n' \
                "$r" "$jt" "$jtd" "$jl"
            r=$((r + 1))
        done
        jl_med=$(median <"$tmp/jl")
        jt_med=$(median <"$tmp/jt")
        jtd_med=$(median <"$tmp/jt_derive")
        ratio=$(median <"$tmp/ratios")
        ratio_d=$(median <"$tmp/ratios_derive")
        verdict=$(awk -v x="$ratio" 'BEGIN { print (x >= 20) ? "PASS" : "BELOW" }')
        jl_line=$(printf 'jingtum-lib on node: %.1f/s; libjt/jingtum-lib = %.1f (target >= 20)  %s' \
            "$jl_med" "$ratio" "$verdict")
        jl_info=$(printf '  (libjt %.0f/s in those rounds; deriving the key pair from the secret per tx as jingtum-lib does: %.0f/s, %.1fx)' \
            "$jt_med" "$jtd_med" "$ratio_d")
    fi
fi

NODE_PAYMENTS=${NODE_PAYMENTS:-600000}
NODE_ROUNDS=${NODE_ROUNDS:-3}
node_bin=$BUILD/bench/bench_node
node_failed=
echo
echo "== bench_node: jt-node, ${NODE_PAYMENTS} payments in ${NODE_ROUNDS} rounds over jtp (about 50 s)"
if [ ! -x "$node_bin" ] || [ ! -x "$BUILD/bin/jt-node" ]; then
    echo "run.sh: $node_bin or $BUILD/bin/jt-node not built (make bench)" >&2
    node_failed=1
else
    # shellcheck disable=SC2086 # NODE_ARGS is a list of options
    ("$node_bin" --node "$BUILD/bin/jt-node" --payments "$NODE_PAYMENTS" \
        --rounds "$NODE_ROUNDS" ${NODE_ARGS:-} || echo "$?" >"$tmp/node_failed") |
        tee "$tmp/node.txt"
    [ ! -f "$tmp/node_failed" ] || node_failed=1
fi

offers_status=skipped
if [ "${OFFERS:-1}" != 0 ] && [ -x "$node_bin" ] && [ -x "$BUILD/bin/jt-node" ]; then
    echo
    echo "== bench_node --mode offers: OfferCreates crossing a 10 000-deep book, book_offers (about 60 s)"
    # shellcheck disable=SC2086 # OFFERS_ARGS is a list of options
    ("$node_bin" --mode offers --node "$BUILD/bin/jt-node" ${OFFERS_ARGS:-} ||
        echo "$?" >"$tmp/offers_status") | tee "$tmp/offers.txt"
    offers_status=$(cat "$tmp/offers_status" 2>/dev/null || echo 0)
fi

xpay_status=skipped
if [ "${XPAY:-1}" != 0 ] && [ -x "$node_bin" ] && [ -x "$BUILD/bin/jt-node" ]; then
    echo
    echo "== bench_node --mode xpay: cross-currency payments through a 10 000-deep book (about 60 s)"
    # shellcheck disable=SC2086 # XPAY_ARGS is a list of options
    ("$node_bin" --mode xpay --node "$BUILD/bin/jt-node" ${XPAY_ARGS:-} ||
        echo "$?" >"$tmp/xpay_status") | tee "$tmp/xpay.txt"
    xpay_status=$(cat "$tmp/xpay_status" 2>/dev/null || echo 0)
fi

pathfind_status=skipped
if [ "${PATHFIND:-1}" != 0 ] && [ -x "$node_bin" ] && [ -x "$BUILD/bin/jt-node" ]; then
    echo
    echo "== bench_node --mode pathfind: path_find answers per second on 1 000 accounts, 50 tokens, 20 000 offers (about 40 s)"
    # shellcheck disable=SC2086 # PATHFIND_ARGS is a list of options
    ("$node_bin" --mode pathfind --node "$BUILD/bin/jt-node" ${PATHFIND_ARGS:-} ||
        echo "$?" >"$tmp/pathfind_status") | tee "$tmp/pathfind.txt"
    pathfind_status=$(cat "$tmp/pathfind_status" 2>/dev/null || echo 0)
fi

gateway_status=skipped
gw_bin=$BUILD/bench/bench_gateway
if [ "${GATEWAY:-1}" != 0 ] && [ -x "$gw_bin" ] && [ -x "$BUILD/bin/jt-gateway" ]; then
    echo
    echo "== bench_gateway: balance reads vs nginx, payments HTTP in -> validated, RSS (about 90 s)"
    # shellcheck disable=SC2086 # GATEWAY_ARGS is a list of options
    ("$gw_bin" --bin "$BUILD/bin" ${GATEWAY_ARGS:-} || echo "$?" >"$tmp/gateway_status") |
        tee "$tmp/gateway.txt"
    gateway_status=$(cat "$tmp/gateway_status" 2>/dev/null || echo 0)
fi

echo
echo "== summary (every ratio is against a baseline measured in this run)"
sed -n 's/^SUMMARY //p' "$tmp/sign.txt"
echo "$jl_line"
[ -z "${jl_info:-}" ] || echo "$jl_info"
status=0
if [ -n "$node_failed" ]; then
    echo "node: bench_node failed (see above)"
    status=1
else
    sed -n 's/^SUMMARY //p' "$tmp/node.txt"
fi
case $offers_status in
skipped) echo "offers: skipped" ;;
0) sed -n 's/^SUMMARY //p' "$tmp/offers.txt" ;;
3) # the offers did not cross or fill: the SUMMARY lines say FAIL
    sed -n 's/^SUMMARY //p' "$tmp/offers.txt"
    status=1 ;;
*)
    echo "offers: bench_node --mode offers failed (see above)"
    status=1 ;;
esac
case $xpay_status in
skipped) echo "xpay: skipped" ;;
0) sed -n 's/^SUMMARY //p' "$tmp/xpay.txt" ;;
3) # the payments did not cross or deliver: the SUMMARY lines say FAIL
    sed -n 's/^SUMMARY //p' "$tmp/xpay.txt"
    status=1 ;;
*)
    echo "xpay: bench_node --mode xpay failed (see above)"
    status=1 ;;
esac
case $pathfind_status in
skipped) echo "path_find: skipped" ;;
0) sed -n 's/^SUMMARY //p' "$tmp/pathfind.txt" ;;
3) # no paths in most answers, or a payment with the paths did not deliver: FAIL
    sed -n 's/^SUMMARY //p' "$tmp/pathfind.txt"
    status=1 ;;
*)
    echo "path_find: bench_node --mode pathfind failed (see above)"
    status=1 ;;
esac
case $gateway_status in
skipped) echo "gateway: skipped" ;;
0) sed -n 's/^SUMMARY //p' "$tmp/gateway.txt" ;;
*)
    echo "gateway: bench_gateway failed (see above)"
    status=1 ;;
esac
exit "$status"
