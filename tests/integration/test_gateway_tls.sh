#!/bin/sh
# jt-gateway over HTTPS with the certificate `init --tls` makes: a client
# that pins it gets answers; one that does not, and plain HTTP, get none.
set -u
build=$(cd "${JT_BUILD:-build/test}" && pwd)
command -v curl >/dev/null 2>&1 || { echo "# SKIP curl not found"; exit 0; }
dir=$(mktemp -d /tmp/jt-gw-tls-XXXXXX)
pids=
trap 'for p in $pids; do kill -9 $p 2>/dev/null; done; rm -rf "$dir"' EXIT INT TERM
ok() { if [ "$1" = 0 ]; then echo "ok gateway-tls $2"; else echo "not ok gateway-tls $2"; fail=1; fi; }
fail=0
"$build/bin/jt-node" init --data "$dir/node" > /dev/null 2>&1
"$build/bin/jt-node" run --data "$dir/node" --ws 127.0.0.1:0 --jtp '' --close-ms 300 2> "$dir/node.log" &
pids="$pids $!"
i=0; while [ $i -lt 100 ] && ! grep -q 'event=start' "$dir/node.log"; do sleep 0.1; i=$((i + 1)); done
ws=$(sed -n 's/.*event=start .* ws=[^ ]*:\([0-9]*\) .*/\1/p' "$dir/node.log")
"$build/bin/jt-gateway" init --data "$dir/gw" --node "ws://127.0.0.1:$ws" --tls --tls-names gw.example > "$dir/init.out" 2>&1
ok $? "init --tls"
cert="$dir/gw/tls/cert.pem"
[ -f "$cert" ] && [ "$(stat -c %a "$dir/gw/tls/key.pem")" = 600 ]
ok $? "init --tls writes a certificate and a key only the owner may read"
sed -i 's/^address = .*/address = 127.0.0.1:0/; s/^kdf_cost = .*/kdf_cost = min/' "$dir/gw/jt-gateway.conf"
JT_GATEWAY_PASSPHRASE=tls-test "$build/bin/jt-gateway" run --data "$dir/gw" 2> "$dir/gw.log" &
pids="$pids $!"
i=0; while [ $i -lt 100 ] && ! grep -q 'event=start' "$dir/gw.log"; do sleep 0.1; i=$((i + 1)); done
port=$(sed -n 's/.*event=start http=[^ ]*:\([0-9]*\) tls=on .*/\1/p' "$dir/gw.log")
[ -n "$port" ]
ok $? "the listener says tls=on"
body=
i=0; while [ $i -lt 50 ]; do body=$(curl -s --cacert "$cert" "https://127.0.0.1:$port/v2/health") && break; sleep 0.1; i=$((i + 1)); done
echo "$body" | grep -q '"status":"ok"'
ok $? "HTTPS with the certificate pinned"
curl -s "https://127.0.0.1:$port/v2/health" > /dev/null 2>&1
[ $? -ne 0 ]; ok $? "HTTPS without it is refused (self-signed)"
curl -s --max-time 5 "http://127.0.0.1:$port/v2/health" > /dev/null 2>&1
[ $? -ne 0 ]; ok $? "plain HTTP gets no answer"
exit $fail
