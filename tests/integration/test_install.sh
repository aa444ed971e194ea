#!/bin/sh
# make install into a DESTDIR, then build a small program against the
# installed tree with pkg-config (shared and static) and check that it signs
# a payment identical to jt-wallet's.
set -u
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
fails=0
ok()     { echo "ok $1"; }
not_ok() { echo "not ok $1"; [ $# -gt 1 ] && echo "#   $2"; fails=$((fails + 1)); }

ROOT=$T/root
if make -s BUILD="$T/build" install DESTDIR="$ROOT" PREFIX=/usr >"$T/make.log" 2>&1; then
  ok "make install DESTDIR=... PREFIX=/usr"
else
  not_ok "make install" "$(tail -5 "$T/make.log")"; exit 1
fi
for f in usr/include/jt/jt.h usr/include/jt/codec.h usr/include/jt/secret_key.h \
         usr/include/jt/keystore.h usr/include/jt/gateway.h usr/lib/libjt.a usr/lib/pkgconfig/jt.pc \
         usr/bin/jt-wallet usr/share/man/man1/jt-wallet.1; do
  [ -f "$ROOT/$f" ] && ok "installed $f" || not_ok "installed $f"
done
SONAME=$(objdump -p "$ROOT/usr/lib/libjt.so" 2>/dev/null | awk '/SONAME/ {print $2}')
[ "$SONAME" = "libjt.so.0" ] && ok "libjt.so has soname libjt.so.0" || not_ok "soname" "$SONAME"
[ -L "$ROOT/usr/lib/libjt.so.0" ] && ok "libjt.so.0 link" || not_ok "libjt.so.0 link"

export PKG_CONFIG_PATH="$ROOT/usr/lib/pkgconfig" PKG_CONFIG_SYSROOT_DIR="$ROOT"
SRC=tests/integration/data/sign_payment.c
# shellcheck disable=SC2046
if cc -Wall -Werror -o "$T/shared" "$SRC" $(pkg-config --cflags --libs jt) 2>"$T/cc.log"; then
  ok "builds with pkg-config --cflags --libs jt"
else
  not_ok "build against the installed tree" "$(cat "$T/cc.log")"
fi
# shellcheck disable=SC2046
if cc -Wall -Werror -o "$T/static" "$SRC" $(pkg-config --cflags jt) "$ROOT/usr/lib/libjt.a" \
     $(pkg-config --static --libs-only-l jt | sed 's/-ljt//') 2>"$T/cc2.log"; then
  ok "links statically with pkg-config --static"
else
  not_ok "static link" "$(cat "$T/cc2.log")"
fi
WANT=$(printf '%s\n%s\n' snoPBjXtMeMyMHUVTgbuqAfg1SUTb \
  '{"TransactionType":"Payment","Flags":0,"Sequence":1,"Account":"jHb9CJAWyB4jr91VRWn96DkukG4bwdtyTh","Destination":"jnQJ6M9wMtNDSWyk1wqAYa2CXdmDZ5h5Xb","Amount":"1000000","Fee":"10000"}' \
  | "$ROOT/usr/bin/jt-wallet" sign | sed 's/.*"tx_blob":"\([0-9A-F]*\)".*/\1/')
GOT=$(LD_LIBRARY_PATH="$ROOT/usr/lib" "$T/shared")
[ -n "$GOT" ] && [ "$GOT" = "$WANT" ] && ok "the program signs a payment (shared libjt)" \
  || not_ok "shared program output" "got [$GOT] want [$WANT]"
GOT2=$("$T/static" 2>&1)
[ "$GOT2" = "$WANT" ] && ok "the program signs a payment (static libjt)" || not_ok "static program" "$GOT2"
LD_LIBRARY_PATH="$ROOT/usr/lib" "$ROOT/usr/bin/jt-wallet" verify "$GOT" 2>/dev/null \
  && ok "its signature verifies" || not_ok "its signature verifies"

# The gateway client (libcurl inside libjt): docs/gateway-client.md's program
# built both ways, and run against a port where nothing listens — a transport
# error, said as such, not a crash nor a gateway error.
GWSRC=tests/integration/data/gw_pay.c
# shellcheck disable=SC2046
if cc -Wall -Werror -o "$T/gw_shared" "$GWSRC" $(pkg-config --cflags --libs jt) 2>"$T/cc3.log"; then
  ok "the gateway client example builds with pkg-config --cflags --libs jt"
else
  not_ok "gateway client example (shared)" "$(cat "$T/cc3.log")"
fi
# shellcheck disable=SC2046
if cc -Wall -Werror -o "$T/gw_static" "$GWSRC" $(pkg-config --cflags jt) "$ROOT/usr/lib/libjt.a" \
     $(pkg-config --static --libs-only-l jt | sed 's/-ljt//') 2>"$T/cc4.log"; then
  ok "the gateway client example links statically"
else
  not_ok "gateway client example (static)" "$(cat "$T/cc4.log")"
fi
for v in shared static; do
  [ -x "$T/gw_$v" ] || continue
  LD_LIBRARY_PATH="$ROOT/usr/lib" "$T/gw_$v" http://127.0.0.1:1 jHb9CJAWyB4jr91VRWn96DkukG4bwdtyTh \
    >"$T/gw_$v.out" 2>&1; rc=$?
  if [ $rc -eq 2 ] && grep -q "cannot connect to http://127.0.0.1:1.*(ECONNECT)" "$T/gw_$v.out"; then
    ok "the gateway client ($v) reports a refused connection as ECONNECT"
  else
    not_ok "gateway client ($v) against a closed port" "exit $rc: $(cat "$T/gw_$v.out")"
  fi
done
[ $fails -eq 0 ]
