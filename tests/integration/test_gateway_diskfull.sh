#!/bin/sh
# jt-gateway on a full disk (gw_diskfull.js): its data directory on a small
# tmpfs, filled up while it runs. Payments are refused with 503 naming the
# full disk and nothing reaches the node; the audit log keeps no part of a
# line; a key the keystore file cannot hold is not added (503); once there
# is room again the same client_id goes through once and
# `jt-gateway audit verify` passes.
#
# The tmpfs is mounted as root, or in a user namespace (unshare -rm); the
# test is skipped, with a message, when neither is allowed.
set -u
here=$(cd "$(dirname "$0")" && pwd)
build=${JT_BUILD:-build/test}
if ! command -v node >/dev/null 2>&1; then echo "# SKIP gateway disk full: node not found"; exit 0; fi
if [ ! -d "$here/../interop/node_modules/ws" ]; then
  (cd "$here/../interop" && npm ci --no-audit --no-fund --loglevel=error >/dev/null 2>&1)
fi
SIZE=4m
T=$(mktemp -d)
MOUNTED=
cleanup() {
  [ -n "$MOUNTED" ] && umount "$T/small" 2>/dev/null
  rm -rf "$T"
}
trap cleanup EXIT INT TERM
mkdir -p "$T/small"
if [ "$(id -u)" = 0 ] && mount -t tmpfs -o "size=$SIZE,mode=0700" tmpfs "$T/small" 2>/dev/null; then
  MOUNTED=1
  GW_SMALL_DIR="$T/small" node "$here/gw_diskfull.js" "$build"
  exit $?
elif unshare -rm true 2>/dev/null; then
  unshare -rm sh -c '
    mount -t tmpfs -o "size=$1,mode=0700" tmpfs "$2/small" || exit 3
    GW_SMALL_DIR="$2/small" exec node "$3/gw_diskfull.js" "$4"
  ' sh "$SIZE" "$T" "$here" "$build"
  rc=$?
  if [ $rc = 3 ]; then echo "# SKIP gateway disk full: mount -t tmpfs is not allowed in a user namespace here"; exit 0; fi
  exit $rc
fi
echo "# SKIP gateway disk full: mounting a small tmpfs needs root or user namespaces (unshare -rm)"
exit 0
