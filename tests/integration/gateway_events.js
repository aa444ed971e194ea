// gateway_events.js — jt-gateway's events through real HTTP and WebSocket
// against a real jt-node: /v2/events (auth, subscriptions, only validated
// events, delivered_amount, stable ids, replay with since_ledger exactly
// once before live events, limits), and webhooks (admin scope, signed
// deliveries checked with HMAC here, retries until acknowledged, a
// receiver down across a gateway restart still gets every event, dead
// letters).
'use strict';

const build = process.argv[2];
const h = require('./harness')('gateway-events', 'jt-gw-ev-', build);
const g = require('./gw_harness')(h, build);

const G = h.GENESIS;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const swt = (v) => ({ value: String(v), currency: 'SWT' });

const events = g.events;
const receiver = g.receiver;
const hmac = g.hmac;

const until = h.until;

h.run(async () => {
  if (!h.init()) return;
  const nodePort = await h.startNode();
  h.c = h.client(nodePort);
  await h.c.ready;
  if (!g.init(`ws://127.0.0.1:${nodePort}`)) return;
  g.set('webhooks', 'backoff_ms', '200');
  g.set('webhooks', 'backoff_max_s', '2');
  g.set('webhooks', 'max_attempts', '8');
  g.set('webhooks', 'timeout_s', '3');
  g.set('events', 'max_subscriptions', '4');
  g.set('events', 'max_conns_per_key', '3');
  g.set('log', 'requests', 'false');
  const admin = g.apikey('admin', '*');
  const reader = g.apikey('read');
  const signer = g.apikey('sign', '*');
  await g.start();
  let stopCloser = g.closer(150);
  h.ok(await g.waitHealthy(20000), 'gateway healthy');

  let r = await g.api('POST', '/v2/wallet/import', { key: admin, body: { secret: G.secret, label: 'genesis' } });
  h.eq(r.status, 201, 'genesis imported');
  const newWallet = async (label) => (await g.api('POST', '/v2/wallet/new', { key: admin, body: { label } })).body.wallet.address;
  const A = await newWallet('a');
  const B = await newWallet('b');
  const C = await newWallet('c');
  const D = await newWallet('d');
  const pay = async (from, to, v, cid, wait) => {
    const x = await g.api('POST', `/v2/accounts/${from}/payments${wait === false ? '' : '?wait=validated'}`,
      { key: admin, body: { client_id: cid, payment: { destination: to, amount: swt(v) } } });
    if (x.status !== 200 && x.status !== 202) throw new Error(`payment ${cid}: ${x.status} ${JSON.stringify(x.body)}`);
    return x.body;
  };
  const fundA = await pay(G.address, A, 1000, 'fund-a');
  await pay(G.address, B, 1000, 'fund-b');

  // ---- /v2/events: plain GET, authentication, scopes
  r = await g.api('GET', '/v2/events', { key: reader });
  h.ok(r.status === 426 && r.body.error === 'upgradeRequired', 'GET /v2/events without an upgrade: 426', r.body);
  const w1 = events();
  await w1.ready;
  let m = await w1.cmd({ command: 'subscribe', type: 'account', account: A });
  h.ok(m && m.success === false && m.status_code === '401' && m.error === 'unauthorized', 'subscribe before auth: 401 envelope', m);
  m = await w1.cmd({ command: 'auth', key: reader.slice(0, -1) + (reader.endsWith('0') ? '1' : '0') });
  h.ok(m && m.success === false && m.error === 'unauthorized', 'auth with a wrong key: 401', m);
  m = await w1.cmd({ command: 'auth', key: signer });
  h.ok(m && m.success === false && m.status_code === '403', 'auth with a key without read scope: 403', m);
  m = await w1.cmd({ command: 'auth', key: reader });
  h.ok(m && m.success === true && m.command === 'auth', 'auth with a read key', m);
  m = await w1.cmd({ command: 'subscribe', type: 'account', account: 'jNotAnAddress' });
  h.ok(m && m.success === false && m.error === 'badAddress', 'subscribe: bad address is 400', m);
  m = await w1.cmd({ command: 'subscribe', type: 'nothing' });
  h.ok(m && m.success === false && m.error === 'badRequest', 'subscribe: unknown type is 400', m);
  m = await w1.cmd({ command: 'subscribe', type: 'account', account: A });
  h.ok(m && m.success === true && m.type === 'account' && m.account === A && m.ledger_index > 0, 'subscribe to an account', m);
  m = await w1.cmd({ command: 'subscribe', type: 'account', account: A });
  h.ok(m && m.success === false && m.error === 'alreadySubscribed', 'the same subscription twice: 409', m);
  m = await w1.cmd({ command: 'subscribe', type: 'ledger' });
  h.ok(m && m.success === true, 'subscribe to ledgers', m);

  // ---- live account events: only validated, delivered_amount, stable id
  const p1 = await pay(A, B, 7, 'a-b-1');
  let ev = await w1.wait((x) => x.event === 'account' && x.hash === p1.hash, 10000);
  h.ok(ev && ev.account === A && ev.type === 'sent' && ev.tx_type === 'Payment' && ev.result === 'tesSUCCESS' &&
       ev.validated === true && ev.ledger_index === p1.ledger_index &&
       ev.delivered_amount && ev.delivered_amount.value === '7' && ev.delivered_amount.currency === 'SWT' &&
       ev.amount.value === '7' && ev.counterparty === B && ev.tx && ev.tx.hash === p1.hash && ev.meta &&
       ev.id === `${p1.ledger_index}:${ev.meta.TransactionIndex}:${A}`,
       'account event: sent, validated, delivered_amount, id ledger:index:account', ev);
  const ledgers = w1.events((x) => x.event === 'ledger').map((x) => x.ledger_index);
  h.ok(ledgers.length > 0 && ledgers.every((x, i) => i === 0 || x === ledgers[i - 1] + 1),
       'ledger events: consecutive indexes, no gap', ledgers);
  const le = w1.events((x) => x.event === 'ledger' && x.ledger_index === p1.ledger_index)[0];
  h.ok(le && le.id === String(p1.ledger_index) && le.txn_count >= 1 && /^[0-9A-F]{64}$/.test(le.ledger_hash),
       'ledger event: id, hash, txn_count', le);

  // Not yet validated: no event until its ledger is.
  stopCloser();
  await sleep(400);
  const p2 = await pay(A, B, 2, 'a-b-pending', false);
  h.ok(p2.status === 'pending', 'a payment left pending (no ledger closes)', p2);
  await sleep(1000);
  h.ok(w1.events((x) => x.hash === p2.hash).length === 0, 'no event for a transaction not yet validated');
  stopCloser = g.closer(150);
  ev = await w1.wait((x) => x.event === 'account' && x.hash === p2.hash, 10000);
  h.ok(ev && ev.validated === true && ev.delivered_amount.value === '2', 'its event once its ledger is validated', ev);

  // ---- a key revoked while its connection is open: told and closed at once
  {
    const temp = g.apikey('read', A);
    const wr = events();
    await wr.ready;
    m = await wr.cmd({ command: 'auth', key: temp });
    m = await wr.cmd({ command: 'subscribe', type: 'account', account: A });
    h.ok(m && m.success === true, 'a connection with a key about to be revoked subscribes', m);
    const rv = g.cli(['apikey', 'revoke', temp.split('_')[1]]);
    h.ok(rv.status === 0, 'the key is revoked while its connection is open', rv.stderr);
    const told = await wr.wait((x) => x.success === false && x.error === 'unauthorized' && /revoked/.test(x.message), 3000);
    h.ok(told, 'the connection is told its key was revoked', wr.msgs.slice(-3));
    const end = Date.now() + 3000;
    while (!wr.closed && Date.now() < end) await sleep(20);
    h.ok(wr.closed, '... and closed');
    const p3 = await pay(A, B, 1, 'a-b-after-revoke');
    await w1.wait((x) => x.event === 'account' && x.hash === p3.hash, 10000);
    h.eq(wr.events((x) => x.hash === p3.hash).length, 0, 'no event reaches it after the revocation');
  }

  // ---- replay: since_ledger gives the earlier events once, then live ones
  const w2 = events();
  await w2.ready;
  await w2.cmd({ command: 'auth', key: reader });
  m = await w2.cmd({ command: 'subscribe', type: 'account', account: A, since_ledger: fundA.ledger_index });
  h.ok(m && m.success === true && m.since_ledger === fundA.ledger_index, 'subscribe with since_ledger', m);
  // payments while the replay runs: each must come exactly once
  const during = [pay(A, B, 1, 'during-1', false), pay(A, B, 1, 'during-2', false)];
  const done = await w2.wait((x) => x.event === 'replay_done', 15000);
  h.ok(done && done.account === A, 'replay_done after the replayed events', done);
  const dh = (await Promise.all(during)).map((x) => x.hash);
  const p3 = await pay(A, B, 3, 'a-b-live');
  await w2.wait((x) => x.event === 'account' && x.hash === p3.hash, 10000);
  await sleep(500);
  const got = w2.events((x) => x.event === 'account');
  const hashes = got.map((x) => x.hash);
  const ids = got.map((x) => x.id);
  const want = [fundA.hash, p1.hash, p2.hash, ...dh, p3.hash];
  h.ok(want.every((x) => hashes.filter((y) => y === x).length === 1),
       'replay then live: every event exactly once (funding, payments, those during the replay, a live one)',
       { want, hashes });
  h.ok(new Set(ids).size === ids.length, 'no duplicate ids', ids);
  const order = got.map((x) => x.ledger_index * 1e6 + x.tx_index);
  h.ok(order.every((x, i) => i === 0 || x > order[i - 1]), 'events in ledger order', order);
  const idxDone = w2.msgs.indexOf(done);
  const replayed = w2.msgs.slice(0, idxDone).filter((x) => x.event === 'account');
  h.ok(replayed.length >= 3 && replayed.every((x) => x.ledger_index <= done.ledger_index) &&
       got.slice(replayed.length).every((x) => x.ledger_index > done.ledger_index),
       'replayed events up to replay_done\'s ledger, live ones after it', { n: replayed.length, done: done.ledger_index });
  const same = w1.events((x) => x.hash === p1.hash)[0];
  const again = got.find((x) => x.hash === p1.hash);
  h.ok(same && again && same.id === again.id && JSON.stringify(same) === JSON.stringify(again),
       'a replayed event is the same as the live one (same id, same fields)', { same, again });
  const rec = fundA;
  const fe = got.find((x) => x.hash === rec.hash);
  h.ok(fe && fe.type === 'received' && fe.delivered_amount.value === '1000', 'replayed funding: received, delivered_amount', fe);

  // transactions stream with replay
  const w3 = events();
  await w3.ready;
  await w3.cmd({ command: 'auth', key: reader });
  m = await w3.cmd({ command: 'subscribe', type: 'transactions', since_ledger: p1.ledger_index });
  h.ok(m && m.success === true, 'subscribe to transactions since a ledger', m);
  await w3.wait((x) => x.event === 'replay_done', 15000);
  const t1 = w3.events((x) => x.event === 'transaction' && x.hash === p1.hash);
  h.ok(t1.length === 1 && t1[0].id === `${p1.ledger_index}:${t1[0].tx_index}` && t1[0].type === 'sent',
       'transactions replay: the event once, id ledger:index', t1);
  m = await w3.cmd({ command: 'unsubscribe', type: 'transactions' });
  h.ok(m && m.success === true, 'unsubscribe', m);
  m = await w3.cmd({ command: 'unsubscribe', type: 'transactions' });
  h.ok(m && m.success === false && m.error === 'notSubscribed', 'unsubscribe twice: 404', m);

  // ---- limits
  for (const a of [B, C, D]) await w3.cmd({ command: 'subscribe', type: 'account', account: a });
  await w3.cmd({ command: 'subscribe', type: 'ledger' });
  m = await w3.cmd({ command: 'subscribe', type: 'transactions' });
  h.ok(m && m.success === false && m.error === 'tooManySubscriptions', 'subscriptions per connection are capped', m);
  const w4 = events();
  await w4.ready;
  m = await w4.cmd({ command: 'auth', key: reader });
  h.ok(m && m.success === false && m.error === 'tooManyConnections', 'connections per API key are capped', m);
  await w3.close();
  await w4.close();

  // ---- webhooks: admin scope
  r = await g.api('POST', '/v2/webhooks', { key: reader, body: { url: 'http://127.0.0.1:1/x', accounts: [B] } });
  h.eq(r.status, 403, 'POST /v2/webhooks needs admin');
  r = await g.api('GET', '/v2/webhooks', { key: reader });
  h.eq(r.status, 403, 'GET /v2/webhooks needs admin');
  r = await g.api('POST', '/v2/webhooks', { key: admin, body: { url: 'ftp://x', accounts: [B] } });
  h.ok(r.status === 400 && r.body.field === 'url', 'a URL that is not http(s): 400', r.body);
  r = await g.api('POST', '/v2/webhooks', { key: admin, body: { url: 'http://127.0.0.1:1/x', accounts: ['jBad'] } });
  h.ok(r.status === 400 && r.body.field === 'accounts', 'a bad account: 400', r.body);

  // ---- a receiver that fails three times, then acknowledges
  const rx1 = receiver((e, n) => (n <= 3 ? 500 : 200));
  await rx1.ready;
  r = await g.api('POST', '/v2/webhooks', { key: admin, body: { url: rx1.url(), accounts: [B] } });
  const hook1 = r.body.webhook;
  h.ok(r.status === 201 && hook1 && /^[0-9a-f]{16}$/.test(hook1.id) && /^whsec_[0-9a-f]{48}$/.test(hook1.secret),
       'webhook created; its secret shown once', r.body);
  r = await g.api('GET', '/v2/webhooks', { key: admin });
  h.ok(r.status === 200 && r.body.webhooks.length === 1 && r.body.webhooks[0].id === hook1.id &&
       !JSON.stringify(r.body).includes(hook1.secret) && r.body.webhooks[0].secret === undefined,
       'GET /v2/webhooks lists it, never the secret', r.body);
  const p4 = await pay(A, B, 4, 'a-b-hook');
  const acked = await until(() => rx1.reqs.some((x) => x.status === 200 && x.body.hash === p4.hash), 20000);
  h.ok(acked, 'webhook: delivered once the receiver answers 200');
  const forP4 = rx1.reqs.filter((x) => x.body.hash === p4.hash);
  h.ok(forP4.length === 4 && forP4.slice(0, 3).every((x) => x.status === 500),
       'webhook: three 500s retried, then acknowledged', forP4.map((x) => x.status));
  const gaps = forP4.slice(1).map((x, i) => x.at - forP4[i].at);
  // backoff_ms 200, doubling: 200, 400, 800 ms, each started at the first
  // quarter-second tick after it is due (so up to ~250 ms later).
  h.ok(gaps.length === 3 && gaps.every((gap, i) => gap >= 0.9 * 200 * 2 ** i) && gaps[2] >= gaps[0] * 1.5,
       'webhook: retries back off (doubling)', gaps);
  h.ok(rx1.reqs.every((x) => x.headers['x-jt-signature'] === hmac(hook1.secret, x.raw)),
       'webhook: every delivery signed (HMAC-SHA256 of the body)', rx1.reqs.map((x) => x.headers['x-jt-signature']));
  const d0 = forP4[3];
  h.ok(d0.headers['x-jt-event-id'] === d0.body.id && d0.body.id === `${p4.ledger_index}:${d0.body.tx_index}:${B}` &&
       forP4.every((x) => x.body.id === d0.body.id && x.raw.equals(d0.raw)) &&
       Math.abs(Number(d0.headers['x-jt-timestamp']) - Date.now() / 1000) < 60 &&
       d0.body.event === 'account' && d0.body.type === 'received' && d0.body.delivered_amount.value === '4',
       'webhook: the event (same id and bytes on every attempt), X-JT-Event-Id, X-JT-Timestamp', d0.body);
  h.ok(hmac('not the secret', d0.raw) !== d0.headers['x-jt-signature'], 'webhook: another secret does not verify');
  await sleep(1500);
  h.eq(rx1.reqs.filter((x) => x.body.hash === p4.hash).length, 4, 'webhook: nothing more once acknowledged');

  // ---- a receiver down while the gateway restarts gets every event after
  const rx2 = receiver(() => 200);
  await rx2.ready;
  const port2 = rx2.port;
  await rx2.close(); // down
  r = await g.api('POST', '/v2/webhooks', { key: admin, body: { url: `http://127.0.0.1:${port2}/hook`, accounts: [C], secret: 'a secret of our own choosing' } });
  const hook2 = r.body.webhook;
  h.ok(r.status === 201 && hook2.secret === 'a secret of our own choosing', 'webhook with a secret of its own', r.body);
  const c1 = await pay(G.address, C, 100, 'fund-c');
  await sleep(300);
  await g.stop();
  // while the gateway is down, the node validates more payments to C
  const c2 = await h.submit(G, { TransactionType: 'Payment', Destination: C, Amount: '5000000' });
  const c3 = await h.submit(G, { TransactionType: 'Payment', Destination: C, Amount: '6000000' });
  await sleep(600);
  await g.start();
  h.ok(await g.waitHealthy(20000), 'gateway restarted');
  const rx2b = receiver(() => 200, port2);
  await rx2b.ready;
  const cHashes = [c1.hash, c2.hash, c3.hash];
  const all = await until(() => cHashes.every((x) => rx2b.reqs.some((y) => y.body.hash === x)), 30000);
  h.ok(all, 'receiver back: every event, including those validated while the gateway was down',
       rx2b.reqs.map((x) => x.body.hash));
  const byHash = {};
  for (const x of rx2b.reqs) (byHash[x.body.hash] = byHash[x.body.hash] || new Set()).add(x.body.id);
  h.ok(cHashes.every((x) => byHash[x] && byHash[x].size === 1) &&
       rx2b.reqs.every((x) => x.headers['x-jt-signature'] === hmac(hook2.secret, x.raw) &&
                                x.body.id === `${x.body.ledger_index}:${x.body.tx_index}:${C}`),
       'each event keeps one id across attempts and the restart; signed with the chosen secret', byHash);
  const c5 = rx2b.reqs.find((x) => x.body.hash === c2.hash);
  h.ok(c5 && c5.body.delivered_amount.value === '5', 'caught-up event: delivered_amount', c5 && c5.body);
  // the WebSocket client of the first run is gone with it; a new one replays
  const w5 = events();
  await w5.ready;
  await w5.cmd({ command: 'auth', key: reader });
  await w5.cmd({ command: 'subscribe', type: 'account', account: C, since_ledger: c1.ledger_index });
  await w5.wait((x) => x.event === 'replay_done', 15000);
  const cw = w5.events((x) => x.event === 'account');
  h.ok(cHashes.every((x) => cw.filter((y) => y.hash === x).length === 1) &&
       cw.every((x) => (byHash[x.hash] ? byHash[x.hash].has(x.id) : true)),
       'after the restart a replay gives the same events with the same ids as the webhook', cw.map((x) => x.id));
  await w5.close();

  // ---- an always-failing receiver ends in the dead letters
  let rx3code = 500;
  const rx3 = receiver(() => rx3code);
  await rx3.ready;
  r = await g.api('POST', '/v2/webhooks', { key: admin, body: { url: rx3.url(), accounts: [D] } });
  const hook3 = r.body.webhook;
  const dPay = await pay(G.address, D, 50, 'fund-d');
  const dead = await until(async () => {
    const x = await g.api('GET', '/v2/webhooks', { key: admin });
    const w = x.body.webhooks.find((y) => y.id === hook3.id);
    return w && w.dead === 1 && w.pending === 0;
  }, 40000, 300);
  h.ok(dead, 'always 500: the delivery becomes a dead letter');
  r = await g.api('GET', '/v2/webhooks', { key: admin });
  h.ok(r.body.dead_letters.some((x) => x.webhook === hook3.id && x.attempts === 8 && x.last_status === 500),
       'GET /v2/webhooks shows the dead letter (8 attempts, last status 500)', r.body.dead_letters);
  h.eq(rx3.reqs.filter((x) => x.body.hash === dPay.hash).length, 8, 'the receiver saw 8 attempts');
  r = await g.api('GET', `/v2/webhooks/${hook3.id}/dead`, { key: admin });
  h.ok(r.status === 200 && r.body.dead.length === 1 && r.body.dead[0].event.hash === dPay.hash &&
       r.body.dead[0].id === r.body.dead[0].event.id, 'GET /v2/webhooks/{id}/dead: the event itself', r.body);
  r = await g.api('GET', '/metrics', { key: admin });
  const metric = (name) => { const mm = new RegExp(`^${name.replace(/[{}"]/g, '\\$&')} (\\d+)`, 'm').exec(r.body); return mm ? +mm[1] : -1; };
  h.ok(metric('jt_gateway_webhook_deliveries_total{result="dead"}') >= 1 &&
       metric('jt_gateway_webhook_deliveries_total{result="ok"}') >= 1 &&
       metric('jt_gateway_webhook_deliveries_total{result="failed"}') >= 8 &&
       metric('jt_gateway_webhook_queue') >= 0 && metric('jt_gateway_events_ledger') > 0,
       'metrics: deliveries ok/failed/dead, queue, events ledger', r.body.split('\n').filter((l) => /webhook|events/.test(l)));

  // ---- dead letters sent again once the endpoint works
  r = await g.api('POST', `/v2/webhooks/${hook3.id}/dead/retry`, { key: reader });
  h.eq(r.status, 403, 'POST /v2/webhooks/{id}/dead/retry needs admin');
  r = await g.api('POST', '/v2/webhooks/0000000000000000/dead/retry', { key: admin });
  h.ok(r.status === 404 && r.body.error === 'webhookNotFound', 'retry for an unknown webhook: 404', r.body);
  const seen3 = rx3.reqs.length;
  rx3code = 200;
  r = await g.api('POST', `/v2/webhooks/${hook3.id}/dead/retry`, { key: admin });
  h.ok(r.status === 200 && r.body.requeued === 1 && r.body.more === false && r.body.webhook === hook3.id, 'retry: the dead letter is owed again, none left', r.body);
  const redelivered = await until(async () => {
    const x = await g.api('GET', '/v2/webhooks', { key: admin });
    const w = x.body.webhooks.find((y) => y.id === hook3.id);
    return w && w.dead === 0 && w.pending === 0 && rx3.reqs.slice(seen3).some((q) => q.body.hash === dPay.hash);
  }, 20000, 200);
  const again3 = rx3.reqs.slice(seen3).filter((q) => q.body.hash === dPay.hash);
  h.ok(redelivered && again3.length === 1 && again3[0].body.id === rx3.reqs.find((q) => q.body.hash === dPay.hash).body.id &&
       again3[0].headers['x-jt-signature'] === hmac(hook3.secret, again3[0].raw),
       '... delivered once more, with the same event id and a valid signature; no dead letter left', again3.map((q) => q.body.id));
  r = await g.api('POST', `/v2/webhooks/${hook3.id}/dead/retry`, { key: admin });
  h.ok(r.status === 200 && r.body.requeued === 0, 'retry with nothing dead: 0 requeued', r.body);
  // Two more dead letters, sent again one call at a time.
  rx3code = 500;
  const more = [await pay(G.address, D, 1, 'fund-d-2'), await pay(G.address, D, 1, 'fund-d-3')];
  const dead2 = await until(async () => {
    const x = await g.api('GET', '/v2/webhooks', { key: admin });
    const w = x.body.webhooks.find((y) => y.id === hook3.id);
    return w && w.dead === 2 && w.pending === 0;
  }, 40000, 300);
  h.ok(dead2, 'two more deliveries end as dead letters');
  r = await g.api('POST', `/v2/webhooks/${hook3.id}/dead/retry?limit=0`, { key: admin });
  h.ok(r.status === 400 && r.body.error === 'badLimit', 'retry ?limit=0: 400 badLimit', r.body);
  r = await g.api('POST', `/v2/webhooks/${hook3.id}/dead/retry?limit=1001`, { key: admin });
  h.ok(r.status === 400 && r.body.error === 'badLimit', 'retry ?limit above 1000: 400 badLimit', r.body);
  rx3code = 200;
  const seen4 = rx3.reqs.length;
  r = await g.api('POST', `/v2/webhooks/${hook3.id}/dead/retry?limit=1`, { key: admin });
  h.ok(r.status === 200 && r.body.requeued === 1 && r.body.more === true, 'retry ?limit=1: one requeued, more left', r.body);
  r = await g.api('POST', `/v2/webhooks/${hook3.id}/dead/retry?limit=1`, { key: admin });
  h.ok(r.status === 200 && r.body.requeued === 1 && r.body.more === false, '... the next call takes the last one', r.body);
  const both = await until(async () => more.every((p) => rx3.reqs.slice(seen4).some((q) => q.body.hash === p.hash)), 20000, 200);
  h.ok(both, '... and both are delivered');

  // ---- delete
  r = await g.api('DELETE', `/v2/webhooks/${hook3.id}`, { key: reader });
  h.eq(r.status, 403, 'DELETE /v2/webhooks/{id} needs admin');
  r = await g.api('DELETE', `/v2/webhooks/${hook3.id}`, { key: admin });
  h.ok(r.status === 200 && r.body.deleted === hook3.id, 'webhook deleted', r.body);
  r = await g.api('DELETE', `/v2/webhooks/${hook3.id}`, { key: admin });
  h.ok(r.status === 404 && r.body.error === 'webhookNotFound', 'deleting it again: 404', r.body);
  r = await g.api('GET', '/v2/webhooks', { key: admin });
  h.ok(!r.body.webhooks.some((x) => x.id === hook3.id) && !r.body.dead_letters.some((x) => x.webhook === hook3.id),
       'gone from the list, with its dead letters', r.body);

  await w1.close();
  await w2.close();
  stopCloser();
  await rx1.close();
  await rx2b.close();
  await rx3.close();
  await g.stop();
  await h.stopNode();
});
