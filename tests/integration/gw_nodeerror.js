// gw_nodeerror.js BUILD — jt-gateway when its node answers, but not as
// expected (the 502s of GATEWAY-API.md), run by test_gateway_node.sh.
//
// A relay between the gateway and one real jt-node passes every message
// both ways, except the commands the test tells it to spoil: those it
// answers itself, with an error the gateway has no meaning for or with a
// success that lacks what the gateway needs. So:
//   1. reads answer 502 with the node's error named, error_type "network";
//   2. a write from an account whose sequence the gateway must ask for
//      answers 502 and signs nothing (no audit line, nothing on the node);
//   3. a success reply without the Sequence: 502 too, nothing signed;
//   4. once the node answers properly again, the same requests succeed;
//   5. a payment whose every submission is lost (the relay swallows it)
//      expires, and the sequence it left unused is filled with a no-op
//      AccountSet so that the payment queued behind it is validated.
'use strict';
const fs = require('fs');
const http = require('http');
const path = require('path');
const WebSocket = require(path.join(__dirname, '../interop/node_modules/ws'));

const build = process.argv[2];
const h = require('./harness')('gw-nodeerror', 'jt-gw-nerr-', build);
const g = require('./gw_harness')(h, build);
const G = h.GENESIS;

// The relay: `spoil(cmd, msg)` returns the answer to send instead of
// forwarding, 'drop' to swallow the request, or null to forward.
let spoil = () => null;
const spoiled = [];
const relay = (upstream) => new Promise((resolve) => {
  const web = http.createServer();
  const srv = new WebSocket.Server({ server: web });
  web.listen(0, '127.0.0.1', () => resolve(web));
  srv.on('connection', (down) => {
    const up = new WebSocket(upstream);
    const early = [];
    up.on('open', () => { for (const m of early.splice(0)) up.send(m); });
    up.on('message', (m) => { if (down.readyState === WebSocket.OPEN) down.send(m.toString()); });
    up.on('close', () => down.close());
    up.on('error', () => down.terminate());
    down.on('close', () => up.close());
    down.on('message', (raw) => {
      const text = raw.toString();
      let msg = null;
      try { msg = JSON.parse(text); } catch (e) { /* forwarded as it is */ }
      const answer = msg && spoil(msg.command, msg);
      if (answer === 'drop') {
        spoiled.push('drop:' + msg.command);
        return;
      }
      if (answer) {
        spoiled.push(msg.command);
        down.send(JSON.stringify(Object.assign({ id: msg.id, type: 'response' }, answer)));
        return;
      }
      if (up.readyState === WebSocket.OPEN) up.send(text); else early.push(text);
    });
  });
});
const internal = { status: 'error', error: 'internal', error_code: 73, error_message: 'Internal error.' };

h.run(async () => {
  if (!h.init()) return;
  const L = await h.startNode();
  h.c = h.client(L);
  await h.c.ready;
  const srv = await relay(`ws://127.0.0.1:${L}`);
  if (!g.init(`ws://127.0.0.1:${srv.address().port}`)) return;
  g.set('node', 'request_timeout_ms', '3000');
  const admin = g.apikey('admin', '*');
  await g.start();
  const stopCloser = g.closer(150);
  h.ok(await g.waitHealthy(20000), 'the gateway is healthy through the relay');

  let r = await g.api('POST', '/v2/wallet/import', { key: admin, body: { secret: G.secret } });
  r = await g.api('POST', '/v2/wallet/new', { key: admin, body: {} });
  const A = r.body.wallet.address;
  r = await g.api('POST', '/v2/wallet/new', { key: admin, body: {} });
  const B = r.body.wallet.address;
  for (const [cid, to] of [['fund-a', A], ['fund-b', B]]) {
    r = await g.api('POST', `/v2/accounts/${G.address}/payments?wait=validated`,
      { key: admin, body: { client_id: cid, payment: { destination: to, amount: { value: '1000', currency: 'SWT' } } } });
    h.ok(r.status === 200 && r.body.status === 'validated', `${cid}: funded`, r.body);
  }
  const auditLines = () => fs.readFileSync(path.join(g.dir, 'audit.log'), 'utf8').split('\n').filter(Boolean).length;
  const nodeSeq = async (acct) => (await h.c.request({ command: 'account_info', account: acct, ledger_index: 'current' })).result.account_data.Sequence;

  // ---- 1. reads: the node's unexpected error is a 502 that names it
  spoil = (cmd) => (cmd === 'account_info' || cmd === 'account_lines' || cmd === 'account_tx' ? internal : null);
  r = await g.api('GET', `/v2/accounts/${A}/balances`, { key: admin });
  h.ok(r.status === 502 && r.body.success === false && r.body.error_type === 'network' && r.body.error === 'internal' &&
       /Internal error/.test(r.body.message), 'balances: 502, the node\'s error named, error_type network', r.body);
  r = await g.api('GET', `/v2/accounts/${A}/payments`, { key: admin });
  h.ok(r.status === 502 && r.body.error === 'internal', 'history: 502 too', r.body);
  h.ok(spoiled.includes('account_info') && spoiled.includes('account_tx'), 'the relay spoiled those requests', spoiled);

  // ---- 2. a write that needs the account's sequence: 502, nothing signed
  const a0 = auditLines();
  const seqB = await nodeSeq(B);
  r = await g.api('POST', `/v2/accounts/${B}/payments`,
    { key: admin, body: { client_id: 'b-1', payment: { destination: G.address, amount: { value: '1', currency: 'SWT' } } } });
  h.ok(r.status === 502 && r.body.error === 'internal' && r.body.error_type === 'network', 'a payment whose sequence the node will not give: 502', r.body);
  h.eq(auditLines(), a0, '... nothing signed (no audit line)');
  r = await g.api('GET', `/v2/accounts/${B}/payments/b-1`, { key: admin });
  h.eq(r.status, 404, '... nothing recorded under its client_id (it may be sent again)');

  // ---- 3. a success without the Sequence: 502, nothing signed
  spoil = (cmd) => (cmd === 'account_info' ? { status: 'success', result: { account_data: { Account: B } } } : null);
  r = await g.api('POST', `/v2/accounts/${B}/payments`,
    { key: admin, body: { client_id: 'b-1', payment: { destination: G.address, amount: { value: '1', currency: 'SWT' } } } });
  h.ok(r.status === 502 && r.body.error === 'nodeError' && /Sequence/.test(r.body.message), 'an account_info without a Sequence: 502 nodeError', r.body);
  h.eq(auditLines(), a0, '... nothing signed');

  // ---- 4. the node answers properly again
  spoil = () => null;
  r = await g.api('GET', `/v2/accounts/${A}/balances`, { key: admin });
  h.ok(r.status === 200 && r.body.success === true, 'balances answer again', r.body);
  r = await g.api('POST', `/v2/accounts/${B}/payments?wait=validated`,
    { key: admin, body: { client_id: 'b-1', payment: { destination: G.address, amount: { value: '1', currency: 'SWT' } } } });
  h.ok(r.status === 200 && r.body.status === 'validated', 'the same client_id is sent and validated now', r.body);
  h.eq(await nodeSeq(B), seqB + 1, 'the node applied it once, with the sequence it would have had');
  h.eq(auditLines(), a0 + 1, 'one audit line: the one signature');

  // ---- 5. an expired transaction's sequence is filled
  stopCloser();
  await g.stop();
  g.set('submit', 'ledger_window', '3');
  g.set('submit', 'resubmit_ms', '300');
  g.set('node', 'request_timeout_ms', '1000');
  await g.start();
  const closer2 = g.closer(200);
  h.ok(await g.waitHealthy(20000), 'restarted with a ledger window of 3');
  const seqA = await nodeSeq(A);
  let lost = null;
  spoil = (cmd, msg) => {
    if (cmd !== 'submit') return null;
    if (lost === null) lost = msg.tx_blob;
    return msg.tx_blob === lost ? 'drop' : null;
  };
  const payA = (cid, tag) => g.api('POST', `/v2/accounts/${A}/payments`,
    { key: admin, body: { client_id: cid, payment: { destination: G.address, amount: { value: '1', currency: 'SWT' }, destination_tag: tag } } });
  r = await payA('lost', 1);
  h.ok((r.status === 202 || r.status === 200) && r.body.status === 'pending' && r.body.sequence === seqA,
    'a payment whose submission is lost is pending (not failed), with the next sequence', r.body);
  r = await payA('behind', 2);
  h.ok(r.body.sequence === seqA + 1 && r.body.status === 'pending', 'the next payment takes the sequence after it', r.body);
  const until = async (cid, status, ms) => {
    const end = Date.now() + ms;
    for (;;) {
      const x = await g.api('GET', `/v2/accounts/${A}/payments/${cid}`, { key: admin });
      if (x.body.status === status || Date.now() > end) return x;
      await new Promise((res) => setTimeout(res, 100));
    }
  };
  r = await until('lost', 'expired', 20000);
  h.ok(r.body.status === 'expired', 'the lost payment expires past its LastLedgerSequence', r.body);
  r = await until('behind', 'validated', 20000);
  h.ok(r.body.status === 'validated' && r.body.result === 'tesSUCCESS', 'the payment behind it is validated', r.body);
  h.ok(g.logs.some((l) => /event=gap_fill/.test(l)), 'the gap fill is logged');
  h.eq(await nodeSeq(A), seqA + 2, 'on the node: the filler and the payment behind it, nothing else');
  const tx = await h.c.request({ command: 'account_tx', account: A, ledger_index_min: -1, ledger_index_max: -1, limit: 10 });
  const mine = (tx.result.transactions || []).map((x) => x.tx).filter((x) => x.Account === A && x.Sequence >= seqA);
  h.ok(mine.length === 2 && mine.some((x) => x.Sequence === seqA && x.TransactionType === 'AccountSet') &&
       mine.some((x) => x.Sequence === seqA + 1 && x.TransactionType === 'Payment' && x.DestinationTag === 2),
       'the sequence was filled by a no-op AccountSet; the lost payment never applied', mine);
  spoil = () => null;
  closer2();
  await g.stop();
  const ws = g.logs.filter((l) => /AddressSanitizer|runtime error/.test(l));
  h.eq(ws.length, 0, 'no sanitizer report');
  srv.close();
});
