#!/bin/sh
# A full store and a full disk (docs/node.md, "Durability"): with payments
# flowing, jt-node fills its store until it stops by itself; it must exit
# non-zero saying "store full" (naming store_map_size) or "disk full" (with
# the space left), with its data directory; once there is room again (the
# setting raised, or the data directory moved to a larger disk) `jt-node
# verify` passes, no transaction announced as validated is lost, and the
# node validates payments again. The work is crash_driver.js's fill mode.
#
#   1. the store: DIR/jt-node.conf sets store_map_size to 1 MiB;
#   2. the disk: the data directory on a 1 MiB tmpfs, mounted as root or in
#      a user namespace (unshare -rm); skipped, with a message, when neither
#      is allowed.
#
#   JT_BUILD          build whose bin/jt-node and bin/jt-wallet are tested (build/test)
#   JT_CRASH_KEEP=1   keep the temporary directory (node logs, stores)
set -u
BIN=${JT_BUILD:-build/test}/bin
MAP_SIZE=1048576
TMPFS_SIZE=1m

if ! command -v node >/dev/null 2>&1; then
  echo "# SKIP full-disk test: node (Node.js) is not installed"; exit 0
fi
HERE=$(cd "$(dirname "$0")" && pwd)
if [ ! -d "$HERE/../interop/node_modules/ws" ]; then
  echo "# SKIP full-disk test: tests/interop/node_modules/ws is missing (npm ci in tests/interop)"; exit 0
fi
for b in jt-node jt-wallet; do
  if [ ! -x "$BIN/$b" ]; then echo "not ok full-disk test: $BIN/$b is not built"; exit 1; fi
done
BIN=$(cd "$BIN" && pwd)

T=$(mktemp -d)
DRIVER=
MOUNTED=
cleanup() {
  [ -n "$DRIVER" ] && kill "$DRIVER" 2>/dev/null
  for w in "$T"/work-*; do
    [ -f "$w/node.pid" ] && kill -9 "$(cat "$w/node.pid")" 2>/dev/null
  done
  [ -n "$MOUNTED" ] && umount "$T/small" 2>/dev/null
  if [ "${JT_CRASH_KEEP:-0}" = 1 ]; then echo "# kept $T"; else rm -rf "$T"; fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

failed=0
run_driver() { # work dir, then the driver's environment as NAME=VALUE words
  w=$1; shift
  mkdir -p "$w"
  env JT_CRASH_MODE=fill JT_FILL_POOL="$T/pool.json" "$@" node "$HERE/crash_driver.js" "$BIN" "$DATA" "$w" &
  DRIVER=$!
  wait "$DRIVER" || failed=1
  DRIVER=
}

# ---- 1. the store's map size
echo "# store full: store_map_size = $MAP_SIZE"
DATA=$T/map
if ! "$BIN/jt-node" init --data "$DATA" >"$T/init-map.log" 2>&1; then
  echo "not ok jt-node init"; sed 's/^/#   /' "$T/init-map.log"; exit 1
fi
sed -i "s/^# store_map_size = 0\$/store_map_size = $MAP_SIZE/" "$DATA/jt-node.conf"
if ! grep -q "^store_map_size = $MAP_SIZE\$" "$DATA/jt-node.conf"; then
  echo "not ok jt-node.conf as written by init offers store_map_size"; exit 1
fi
run_driver "$T/work-map" JT_FILL_RECOVER=map

# ---- 2. the disk: a small tmpfs
mkdir -p "$T/small"
echo "# disk full: the data directory on a $TMPFS_SIZE tmpfs"
if [ "$(id -u)" = 0 ] && mount -t tmpfs -o "size=$TMPFS_SIZE,mode=0700" tmpfs "$T/small" 2>/dev/null; then
  MOUNTED=1
  DATA=$T/small/data
  if ! "$BIN/jt-node" init --data "$DATA" >"$T/init-disk.log" 2>&1; then
    echo "not ok jt-node init on the tmpfs"; sed 's/^/#   /' "$T/init-disk.log"; exit 1
  fi
  run_driver "$T/work-disk" "JT_FILL_RECOVER=move:$T/moved"
elif unshare -rm true 2>/dev/null; then
  # The mount lives as long as the namespace: the driver and the nodes it
  # starts run inside it.
  mkdir -p "$T/work-disk"
  DATA=$T/small/data
  unshare -rm sh -c '
    mount -t tmpfs -o "size=$1,mode=0700" tmpfs "$2/small" || exit 3
    "$3/jt-node" init --data "$4" >"$2/init-disk.log" 2>&1 || exit 4
    JT_CRASH_MODE=fill JT_FILL_POOL="$2/pool.json" JT_FILL_RECOVER="move:$2/moved" exec node "$5/crash_driver.js" "$3" "$4" "$2/work-disk"
  ' sh "$TMPFS_SIZE" "$T" "$BIN" "$DATA" "$HERE" &
  DRIVER=$!
  wait "$DRIVER"; rc=$?
  DRIVER=
  case $rc in
    0) ;;
    3) echo "# SKIP disk full: mount -t tmpfs is not allowed in a user namespace here" ;;
    4) echo "not ok jt-node init on the tmpfs"; sed 's/^/#   /' "$T/init-disk.log"; failed=1 ;;
    *) failed=1 ;;
  esac
else
  echo "# SKIP disk full: mounting a small tmpfs needs root or user namespaces (unshare -rm)"
fi

exit $failed
