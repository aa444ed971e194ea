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
  [ -d "$DATA" ] || "$BIN/jt-node" init --data "$DATA"
  "$BIN/jt-node" run --data "$DATA" > "$BUILD/jt-node.log" 2>&1 &
  echo "jt-node started on ws://127.0.0.1:5020 (log: $BUILD/jt-node.log)"
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
