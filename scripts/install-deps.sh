#!/bin/sh
# Installs the Debian packages jtkit needs, only when some are missing.
# Safe to run repeatedly: with everything present it returns at once.
# Usage: scripts/install-deps.sh [--no-node] [--bench]
#   --bench  also what `make bench` compares against (nginx-light: the HTTP
#            baseline of bench_gateway)
set -eu

PKGS="build-essential pkg-config libsodium-dev libsecp256k1-dev libssl-dev
libcurl4-openssl-dev libwebsockets-dev libyajl-dev libncurses-dev liblmdb-dev
libinih-dev libcmocka-dev clang libclang-rt-dev libjemalloc-dev curl jq"
NODE_PKGS="nodejs npm"
BENCH_PKGS="nginx-light"

no_node=0
want="$PKGS"
for arg in "$@"; do
  case $arg in
  --no-node) no_node=1 ;;
  --bench) want="$want $BENCH_PKGS" ;;
  esac
done
if [ "$no_node" = 0 ]; then
  # A machine that already has node and npm (from any source) is fine as it is.
  if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    want="$want $NODE_PKGS"
  fi
fi

missing=""
for p in $want; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing="$missing $p"
  fi
done
[ -z "$missing" ] && exit 0

echo "install-deps: installing:$missing" >&2
SUDO=""
if [ "$(id -u)" != 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
    echo "install-deps: need root (or sudo) to install:$missing" >&2; exit 1
  fi
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing
