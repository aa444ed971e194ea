#!/bin/sh
# `make up`: after the build, starts what exists on loopback and says what to
# do next. jt-node and jt-gateway are started here once they are built.
set -u
BUILD=${BUILD:-build}
BIN=$BUILD/bin
echo
echo "jtkit is built in $BUILD/:"
for p in jt-node jt-gateway jt-wallet jt-tui; do
  if [ -x "$BIN/$p" ]; then echo "  $BIN/$p"; else echo "  ($p: not built yet)"; fi
done
echo "  $BUILD/lib/libjt.so, $BUILD/lib/libjt.a, $BUILD/lib/jt.pc"
echo
if [ -x "$BIN/jt-node" ]; then
  DATA=${JT_DATA:-$BUILD/dev-ledger}
  PIDF=$BUILD/jt-node.pid
  [ -d "$DATA/ledger" ] || "$BIN/jt-node" init --data "$DATA" > "$BUILD/jt-node.init" || exit 1
  if [ -f "$PIDF" ] && kill -0 "$(cat "$PIDF")" 2>/dev/null; then
    echo "jt-node is already running (pid $(cat "$PIDF"))"
  else
    "$BIN/jt-node" run --data "$DATA" > "$BUILD/jt-node.log" 2>&1 &
    echo $! > "$PIDF"
    i=0
    while [ $i -lt 50 ] && ! grep -q 'event=start' "$BUILD/jt-node.log" 2>/dev/null; do
      if ! kill -0 "$(cat "$PIDF")" 2>/dev/null; then
        echo "jt-node failed to start:"; cat "$BUILD/jt-node.log"; exit 1
      fi
      sleep 0.1; i=$((i + 1))
    done
    echo "jt-node started (pid $(cat "$PIDF"), data $DATA, log $BUILD/jt-node.log)"
  fi
  KEY=$(sed -n 's/^node public key: //p' "$BUILD/jt-node.init" 2>/dev/null)
  echo "  WebSocket (skywelld API): ws://127.0.0.1:5020"
  echo "  jtp (encrypted):          jtp://127.0.0.1:5030?key=$KEY"
  echo "  genesis account:          jHb9CJAWyB4jr91VRWn96DkukG4bwdtyTh (secret snoPBjXtMeMyMHUVTgbuqAfg1SUTb)"
  echo "  stop it with:             kill \$(cat $PIDF)"
  if command -v node >/dev/null 2>&1 && [ -d tests/interop/node_modules/ws ]; then
    echo "  ask it something:         node tests/integration/wsreq.js ws://127.0.0.1:5020 '{\"command\":\"server_info\"}'"
  fi
  if [ -x "$BIN/jt-gateway" ]; then
    echo
    GW=${JT_GATEWAY_DATA:-$BUILD/dev-gateway}
    GPIDF=$BUILD/jt-gateway.pid
    PASSF=$BUILD/dev-gateway.pass
    KEYF=$BUILD/dev-gateway.apikey
    umask 077
    if [ ! -f "$GW/jt-gateway.conf" ]; then
      # A development gateway: the keystore passphrase in a file only this
      # user may read (a real deployment keeps it elsewhere: docs/gateway.md),
      # the node's key pinned, the genesis account's key imported.
      head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$PASSF"
      "$BIN/jt-gateway" init --data "$GW" --node "jtp://127.0.0.1:5030?key=$KEY" > "$BUILD/jt-gateway.init" || exit 1
      sed -i "s|^passphrase_file =.*|passphrase_file = $(cd "$(dirname "$PASSF")" && pwd)/$(basename "$PASSF")|; s|^kdf_cost =.*|kdf_cost = interactive|" "$GW/jt-gateway.conf"
      echo snoPBjXtMeMyMHUVTgbuqAfg1SUTb | "$BIN/jt-gateway" key import --data "$GW" --label genesis > /dev/null || exit 1
      "$BIN/jt-gateway" apikey create --data "$GW" --scopes read,sign,issue,admin --accounts '*' --label dev > "$KEYF" 2>/dev/null || exit 1
    fi
    if [ -f "$GPIDF" ] && kill -0 "$(cat "$GPIDF")" 2>/dev/null; then
      echo "jt-gateway is already running (pid $(cat "$GPIDF"))"
    else
      "$BIN/jt-gateway" run --data "$GW" > "$BUILD/jt-gateway.log" 2>&1 &
      echo $! > "$GPIDF"
      i=0
      while [ $i -lt 100 ] && ! grep -q 'event=start' "$BUILD/jt-gateway.log" 2>/dev/null; do
        if ! kill -0 "$(cat "$GPIDF")" 2>/dev/null; then
          echo "jt-gateway failed to start:"; cat "$BUILD/jt-gateway.log"; exit 1
        fi
        sleep 0.1; i=$((i + 1))
      done
      echo "jt-gateway started (pid $(cat "$GPIDF"), data $GW, log $BUILD/jt-gateway.log)"
    fi
    APIKEY=$(cat "$KEYF")
    echo "  REST API:                 http://127.0.0.1:5080/v2 (OpenAPI: /v2/openapi.json)"
    echo "  API key (all scopes):     $APIKEY   (also in $KEYF)"
    echo "  stop it with:             kill \$(cat $GPIDF)"
    echo
    echo "Next, try:"
    echo "  curl -s http://127.0.0.1:5080/v2/health"
    echo "  curl -s -H 'Authorization: Bearer $APIKEY' -X POST http://127.0.0.1:5080/v2/wallet/new -d '{\"label\":\"alice\"}'"
    echo "  curl -s -H 'Authorization: Bearer $APIKEY' -X POST 'http://127.0.0.1:5080/v2/accounts/jHb9CJAWyB4jr91VRWn96DkukG4bwdtyTh/payments?wait=validated' \\"
    echo "       -d '{\"client_id\":\"first\",\"payment\":{\"destination\":\"<alice address>\",\"amount\":{\"value\":\"100\",\"currency\":\"SWT\"}}}'"
    echo "  (docs/gateway-tutorial.md issues a token and trades it, step by step)"
  fi
else
  echo "jt-node and jt-gateway are not part of this build yet; nothing to start."
fi
echo
echo "The wallet's offline tools:"
echo "  $BIN/jt-wallet keygen"
echo "  echo snoPBjXtMeMyMHUVTgbuqAfg1SUTb | $BIN/jt-wallet address    # the development genesis account"
echo "  $BIN/jt-wallet --help"
echo
echo "Run every test with: make test"
