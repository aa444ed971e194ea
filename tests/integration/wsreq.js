// wsreq.js URL [REQUEST_JSON ...] — sends each request over one WebSocket,
// prints each response (and any pushed message) as one JSON line.
// A request of the form {"sleep":MS} waits. Used by the integration tests.
'use strict';
const WebSocket = require(require('path').join(__dirname, '../interop/node_modules/ws'));
const url = process.argv[2];
const reqs = process.argv.slice(3).map((s) => { try { return JSON.parse(s); } catch (e) { return { raw: s }; } });
const ws = new WebSocket(url);
let pending = 0;
let i = 0;
function next() {
  if (i >= reqs.length) {
    if (pending === 0) setTimeout(() => { ws.terminate(); process.exit(0); }, 100);
    return;
  }
  const r = reqs[i++];
  if (r.sleep !== undefined) return setTimeout(next, r.sleep);
  pending++;
  ws.send(r.raw !== undefined ? r.raw : JSON.stringify(r));
}
ws.on('open', next);
ws.on('message', (m) => {
  const s = m.toString();
  console.log(s);
  let o;
  try { o = JSON.parse(s); } catch (e) { o = {}; }
  if (o.type === 'response' || (o.type === 'error' && o.error)) { pending--; next(); }
});
ws.on('error', (e) => { console.error('wsreq: ' + e.message); process.exit(1); });
setTimeout(() => { console.error('wsreq: timeout'); process.exit(1); }, 20000);
ws.on('close', () => process.exit(0));
