// gw_nodedown.js BUILD — the body of test_gateway_node.sh: jt-gateway when
// its node goes away, with two WebSocket URLs configured.
//
// One real jt-node; the gateway is configured with `url = ws://D ws://L`
// where D is a port nobody listens on and L the node's. So:
//   1. the gateway fails over from the dead first URL to the live one, and
//      /v2/health names the URL it uses;
//   2. payments are left pending (no ledger closes), then the node is killed
//      with SIGKILL (its open ledger, with those payments, is lost): writes
//      answer 503 nodeUnavailable and sign nothing (no audit line, no
//      record), health says degraded with the link's state and error, and the
//      pending payments are still pending;
//   3. the node comes back on L: the gateway reconnects, sends the pending
//      payments again, and they are validated;
//   4. the same again, but the node comes back on D: the gateway fails over
//      the other way and completes the pending work there;
//   5. on the node: every request applied exactly once (DestinationTag), and
//      nothing the gateway refused was applied;
//   6. a final status is reported (an answer, a GET) only once its record
//      is durable: killed right after, the gateway has no pending record.
'use strict';
const fs = require('fs');
const net = require('net');
const path = require('path');
const readline = require('readline');
const { spawn } = require('child_process');

const build = process.argv[2];
const h = require('./harness')('gw-node', 'jt-gw-node-', build);
const g = require('./gw_harness')(h, build);
const G = h.GENESIS;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const freePort = () => new Promise((res) => {
  const s = net.createServer();
  s.listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => res(p)); });
});

// jt-node on a given port (the same data directory each time).
const startNodeOn = (port) => new Promise((resolve, reject) => {
  const p = spawn(h.NODE, ['run', '--data', h.dir, '--ws', `127.0.0.1:${port}`, '--jtp', '', '--close-ms', '0'], { stdio: ['ignore', 'ignore', 'pipe'] });
  h.node = p;
  readline.createInterface({ input: p.stderr }).on('line', (l) => {
    h.logs.push(l);
    if (/event=start/.test(l)) resolve();
  });
  p.on('exit', (c, sig) => { if (h.node === p) { h.node = null; reject(new Error(`jt-node exited ${c} ${sig}`)); } });
});
const killNode = async () => {
  const n = h.node;
  h.node = null;
  const done = new Promise((res) => n.on('exit', res));
  n.kill('SIGKILL');
  await done;
};

h.run(async () => {
  if (!h.init()) return;
  const L = await h.startNode();
  h.c = h.client(L);
  await h.c.ready;
  const D = await freePort();
  const urlD = `ws://127.0.0.1:${D}`, urlL = `ws://127.0.0.1:${L}`;
  if (!g.init(urlL)) return;
  g.set('node', 'url', `${urlD} ${urlL}`);
  g.set('node', 'request_timeout_ms', '2000');
  const admin = g.apikey('admin', '*');
  await g.start();
  let stopCloser = g.closer(150);

  // ---- 1. failover from the dead first URL
  h.ok(await g.waitHealthy(20000), 'the first URL is dead: the gateway fails over to the second and is healthy', g.logs.slice(-5));
  let r = await g.api('GET', '/v2/health');
  h.ok(r.status === 200 && r.body.node.url === urlL && r.body.node.state === 'connected', 'health names the live URL', r.body);
  h.ok(g.logs.some((l) => /event=failover/.test(l)), 'the failover is logged');

  r = await g.api('POST', '/v2/wallet/import', { key: admin, body: { secret: G.secret } });
  r = await g.api('POST', '/v2/wallet/new', { key: admin, body: {} });
  const A = r.body.wallet.address;
  r = await g.api('POST', `/v2/accounts/${G.address}/payments?wait=validated`, { key: admin, body: { client_id: 'fund', payment: { destination: A, amount: { value: '1000', currency: 'SWT' } } } });
  h.ok(r.status === 200 && r.body.status === 'validated', 'A funded', r.body);
  await g.stop();
  await g.start();
  h.ok(await g.waitHealthy(20000), 'restarted (it follows A from now on)');
  const key = g.apikey('read,sign', A);

  let n = 0;
  const reqs = [];
  const pay = async (wait) => {
    const q = { n: ++n, cid: `p-${n}` };
    q.body = { client_id: q.cid, payment: { destination: G.address, amount: { value: '0.01', currency: 'SWT' }, destination_tag: q.n } };
    reqs.push(q);
    const res = await g.api('POST', `/v2/accounts/${A}/payments${wait ? '?wait=validated' : ''}`, { key, body: q.body });
    q.first = res;
    return res;
  };
  const auditLines = () => fs.readFileSync(path.join(g.dir, 'audit.log'), 'utf8').split('\n').filter(Boolean).length;
  const get = (q) => g.api('GET', `/v2/accounts/${A}/payments/${q.cid}`, { key });

  // One outage: pending payments, the node killed, writes refused, the node
  // back on `port`, the pending payments validated.
  const outage = async (label, port, url) => {
    stopCloser();
    await sleep(300);
    const pend = [];
    const pendQ = [];
    for (let i = 0; i < 8; i++) { pend.push(await pay(false)); pendQ.push(reqs[reqs.length - 1]); }
    h.ok(pend.every((x) => (x.status === 200 || x.status === 202) && x.body.status === 'pending' && x.body.hash),
      `${label}: 8 payments accepted and pending (no ledger closes)`, pend.map((x) => [x.status, x.body.status]));
    const waiting = pay(true); // one waiting for validation across the outage
    const wq = reqs[reqs.length - 1];
    await sleep(200);
    await killNode();
    await sleep(600);
    const n0 = auditLines();
    const refused = [];
    for (let i = 0; i < 5; i++) refused.push(await pay(i % 2 === 0));
    h.ok(refused.every((x) => x.status === 503 && x.body.error === 'nodeUnavailable'),
      `${label}: writes answer 503 nodeUnavailable while the node is down`, refused.map((x) => [x.status, x.body.error]));
    h.eq(auditLines(), n0, `${label}: ... and nothing was signed (no audit line)`);
    const gone = await Promise.all(reqs.slice(-5).map(get));
    h.ok(gone.every((x) => x.status === 404), `${label}: ... and nothing was recorded (404 by client_id)`, gone.map((x) => x.status));
    r = await g.api('GET', '/v2/health');
    h.ok(r.status === 503 && r.body.status === 'degraded' && r.body.node.state !== 'connected' && r.body.node.last_error,
      `${label}: health is honest: 503, degraded, the link's state and last error`, r.body);
    const still = await Promise.all(pendQ.map(get));
    h.ok(still.every((x) => x.status === 200 && x.body.status === 'pending'), `${label}: the payments sent before are still pending`, still.map((x) => x.body.status));
    // Back, on `port`.
    await startNodeOn(port);
    h.c = h.client(port);
    await h.c.ready;
    stopCloser = g.closer(150);
    h.ok(await g.waitHealthy(30000), `${label}: the gateway reconnects when the node is back`, g.logs.slice(-6));
    r = await g.api('GET', '/v2/health');
    h.ok(r.status === 200 && r.body.node.url === url && r.body.node.state === 'connected', `${label}: health names ${url}`, r.body);
    const end = Date.now() + 20000;
    let states;
    for (;;) {
      states = await Promise.all(pendQ.map(get));
      if (states.every((x) => x.body.status === 'validated') || Date.now() > end) break;
      await sleep(300);
    }
    h.ok(states.every((x) => x.status === 200 && x.body.status === 'validated' && x.body.result === 'tesSUCCESS'),
      `${label}: the pending payments are validated after the node returns`, states.map((x) => x.body.status));
    const w = await waiting;
    const wnow = await get(wq);
    h.ok(wnow.status === 200 && wnow.body.status === 'validated' && (w.status === 200 ? w.body.hash === wnow.body.hash : true),
      `${label}: the request waiting across the outage is validated`, { answer: [w.status, w.body], now: wnow.body });
    r = await pay(true);
    h.ok(r.status === 200 && r.body.status === 'validated', `${label}: new writes work`, r.body);
  };

  await outage('node back on the same URL', L, urlL);
  // Now the other way: the node comes back on the first URL.
  await outage('node back on the other URL (failover back to the first)', D, urlD);
  h.ok(g.logs.filter((l) => /event=failover/.test(l)).length >= 2, 'failovers both ways are logged');

  // ---- 5. on the node
  stopCloser();
  const got = new Map();
  let marker;
  for (;;) {
    const req = { command: 'account_tx', account: A, ledger_index_min: -1, ledger_index_max: -1, limit: 400 };
    if (marker) req.marker = marker;
    const t = await h.c.request(req);
    for (const e of t.result.transactions) {
      if (e.tx.Account !== A || e.tx.TransactionType !== 'Payment') continue;
      got.set(e.tx.DestinationTag, (got.get(e.tx.DestinationTag) || 0) + 1);
    }
    if (!t.result.marker) break;
    marker = t.result.marker;
  }
  const accepted = reqs.filter((q) => q.first.status !== 503).map((q) => q.n);
  const refusedNs = reqs.filter((q) => q.first.status === 503).map((q) => q.n);
  h.ok(accepted.every((x) => got.get(x) === 1) && refusedNs.every((x) => !got.has(x)) && got.size === accepted.length,
    'on the node: every accepted request applied once, nothing refused applied',
    { accepted: accepted.length, onNode: got.size, twice: [...got].filter(([, c]) => c > 1) });

  // ---- 6. a final status is reported only once it is in the store: killed
  // (SIGKILL) right after a `validated` answer, or right after a GET that
  // said `validated`, the gateway starts again (the node gone, so nothing
  // to look up) with no pending record.
  const restartLoaded = async () => {
    await g.stop('SIGKILL');
    const from = g.logs.length;
    await g.start();
    const m = g.logs.slice(from).map((l) => /mod=submit event=loaded pending=(\d+)/.exec(l)).find(Boolean);
    return { pending: m ? +m[1] : -1, logs: g.logs.slice(from, from + 6) };
  };
  stopCloser = g.closer(150);
  r = await pay(true);
  h.ok(r.status === 200 && r.body.status === 'validated', 'a payment answered validated (?wait=validated)', r.body);
  let after = await restartLoaded();
  h.eq(after.pending, 0, 'killed right after that answer, the gateway starts with no pending record');
  h.ok(await g.waitHealthy(20000), 'restarted');
  r = await pay(false);
  const fq = reqs[reqs.length - 1];
  let seen;
  for (let k = 0; k < 100; k++) {
    seen = await get(fq);
    if (seen.body.status === 'validated') break;
    await sleep(20);
  }
  h.ok(seen.status === 200 && seen.body.status === 'validated' && seen.body.ledger_index > 0, 'a GET reports another payment validated', seen.body);
  stopCloser();
  await killNode();
  after = await restartLoaded();
  h.eq(after.pending, 0, 'killed right after that GET (the node gone too), the gateway starts with no pending record');
  const end = await g.stop();
  h.ok(end && end.code === 0 && !g.logs.some((l) => /Sanitizer|runtime error/.test(l)), 'the gateway stops cleanly (no sanitizer report)', g.logs.filter((l) => /Sanitizer|ERROR/.test(l)).slice(0, 5));
});
