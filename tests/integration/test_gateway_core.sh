#!/bin/sh
# A core dump of a running jt-gateway holds none of its keys (gateway_core.js).
# Needs gcore (gdb) and a release build: a sanitizer build's core would map
# terabytes of shadow memory, so the release tree (JT_RELEASE_BUILD, default
# build) is built here when it is missing.
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
rel=${JT_RELEASE_BUILD:-build}
if ! command -v node >/dev/null 2>&1; then echo "# SKIP node not found"; exit 0; fi
if ! command -v gcore >/dev/null 2>&1; then echo "# SKIP gcore not found (apt-get install gdb)"; exit 0; fi
(cd "$root" && make -s -j2 BUILD="$rel" "$rel/bin/jt-gateway" "$rel/bin/jt-node" "$rel/bin/jt-wallet" >/dev/null) || { echo "not ok gateway-core: release build"; exit 1; }
node "$here/gateway_core.js" "$root/$rel"
