#!/bin/sh
# Runs docs/gateway-tutorial.md as written: its ```sh blocks, in order, with
# `set -e`, against a real jt-node and jt-gateway on loopback ports chosen
# here. Each block is one "ok"/"not ok" line; a block that fails stops the
# tutorial (later steps depend on it).
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=$(cd "${JT_BUILD:-build/test}" && pwd)
for tool in curl jq; do
  if ! command -v $tool >/dev/null 2>&1; then echo "# SKIP $tool not found (scripts/install-deps.sh installs it)"; exit 0; fi
done
dir=$(mktemp -d /tmp/jt-gw-tutorial-XXXXXX)
node_pid=; gw_pid=
cleanup() { [ -n "$gw_pid" ] && kill -9 $gw_pid 2>/dev/null; [ -n "$node_pid" ] && kill -9 $node_pid 2>/dev/null; rm -rf "$dir"; }
trap cleanup EXIT INT TERM

"$build/bin/jt-node" init --data "$dir/node" > "$dir/node.init" 2>&1 || { echo "not ok tutorial: jt-node init"; exit 1; }
"$build/bin/jt-node" run --data "$dir/node" --ws 127.0.0.1:0 --jtp 127.0.0.1:0 --close-ms 300 2> "$dir/node.log" &
node_pid=$!
i=0; while [ $i -lt 100 ] && ! grep -q 'event=start' "$dir/node.log"; do sleep 0.1; i=$((i + 1)); done
jtp_port=$(sed -n 's/.*event=start .* jtp=[^ ]*:\([0-9]*\) .*/\1/p' "$dir/node.log")
key=$(sed -n 's/^node public key: //p' "$dir/node.init")
[ -n "$jtp_port" ] && [ -n "$key" ] || { echo "not ok tutorial: jt-node did not start"; cat "$dir/node.log"; exit 1; }

export JT_GATEWAY_PASSPHRASE=tutorial-passphrase
gw="$build/bin/jt-gateway"
"$gw" init --data "$dir/gw" --node "jtp://127.0.0.1:$jtp_port?key=$key" > /dev/null || { echo "not ok tutorial: jt-gateway init"; exit 1; }
sed -i 's/^address = .*/address = 127.0.0.1:0/; s/^kdf_cost = .*/kdf_cost = min/' "$dir/gw/jt-gateway.conf"
echo snoPBjXtMeMyMHUVTgbuqAfg1SUTb | "$gw" key import --data "$dir/gw" --label genesis > /dev/null || { echo "not ok tutorial: key import"; exit 1; }
KEY=$("$gw" apikey create --data "$dir/gw" --scopes read,sign,issue,admin --accounts '*' 2>/dev/null)
"$gw" run --data "$dir/gw" 2> "$dir/gw.log" &
gw_pid=$!
i=0; while [ $i -lt 100 ] && ! grep -q 'event=start' "$dir/gw.log"; do sleep 0.1; i=$((i + 1)); done
port=$(sed -n 's/.*event=start http=[^ ]*:\([0-9]*\) .*/\1/p' "$dir/gw.log")
[ -n "$port" ] || { echo "not ok tutorial: jt-gateway did not start"; cat "$dir/gw.log"; exit 1; }
i=0; while [ $i -lt 100 ] && ! curl -sf "http://127.0.0.1:$port/v2/health" > /dev/null; do sleep 0.1; i=$((i + 1)); done
export API="http://127.0.0.1:$port/v2" KEY

# The blocks in order in one shell with `set -e`, so variables carry over
# and the first failing command stops it; each finished block says "ok".
script="$dir/run.sh"
awk '
  BEGIN { print "set -eu"; print "trap \x27echo \"not ok tutorial $current\"\x27 EXIT" }
  /^```sh$/ { n++; printf "current=block%02d\n", n; inb = 1; next }
  /^```$/ && inb { printf "echo \"ok tutorial block%02d\"\n", n; inb = 0; next }
  inb { print }
  END { print "trap - EXIT" }
' "$root/docs/gateway-tutorial.md" > "$script"
echo "# tutorial: $(grep -c '^current=' "$script") blocks"
cd "$root" && sh "$script"
