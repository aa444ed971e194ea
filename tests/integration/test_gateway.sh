#!/bin/sh
# Integration tests of jt-gateway through real HTTP against a real jt-node
# (gateway_api.js): authentication and scopes, every error status,
# idempotency under concurrency, the issuer's token flow, blobs signed by
# jingtum-lib, the node going away, restarts, the OpenAPI document, the
# audit log and a scan for secrets; its events (gateway_events.js):
# /v2/events push and replay, signed webhooks with retries, catch-up across
# a restart, dead letters; and encrypted memos end to end, in history,
# events and webhooks (gateway_memos.js); the bound on signing keys kept
# decrypted (gateway_keys.js); the bound on webhook deliveries owed
# (gateway_webhook_cap.js).
set -u
here=$(cd "$(dirname "$0")" && pwd)
build=${JT_BUILD:-build/test}
if ! command -v node >/dev/null 2>&1; then echo "# SKIP node not found"; exit 0; fi
if [ ! -d "$here/../interop/node_modules/ws" ]; then
  (cd "$here/../interop" && npm ci --no-audit --no-fund --loglevel=error >/dev/null 2>&1)
fi
rc=0
node "$here/gateway_api.js" "$build" || rc=1
node "$here/gateway_events.js" "$build" || rc=1
node "$here/gateway_memos.js" "$build" || rc=1
node "$here/gateway_keys.js" "$build" || rc=1
node "$here/gateway_webhook_cap.js" "$build" || rc=1
node "$here/gateway_reads.js" "$build" || rc=1
exit $rc
