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
else
  echo "jt-node and jt-gateway are not part of this build yet; nothing to start."
fi
echo
echo "Try the wallet's offline tools:"
echo "  $BIN/jt-wallet keygen"
echo "  echo snoPBjXtMeMyMHUVTgbuqAfg1SUTb | $BIN/jt-wallet address    # the development genesis account"
echo "  $BIN/jt-wallet --help"
echo
echo "Run every test with: make test"
