// gateway_webhook_cap.js — webhook deliveries owed are bounded: with
// [webhooks] max_owed = 4 and two webhooks on one account, one endpoint
// down and one up, the one down stops getting new deliveries once 4 are
// owed in all and it holds its share (each skipped one is counted in
// /v2/webhooks and /metrics and the first logged), while the one up gets
// every event. When the endpoint comes back, what was owed is delivered,
// new events reach it again, and the gateway logs that it resumed. Dead
// letters are bounded by max_dead_letters, the oldest deleted first, in the
// same order after a restart.
'use strict';

const build = process.argv[2];
const h = require('./harness')('gateway-webhook-cap', 'jt-gw-whcap-', build);
const g = require('./gw_harness')(h, build);

const G = h.GENESIS;
const MAX = 4;
const PAYMENTS = 8;
const until = h.until;

h.run(async () => {
  const up = await g.boot([['webhooks', 'max_owed', MAX], ['webhooks', 'backoff_ms', 200],
    ['webhooks', 'backoff_max_s', 1], ['webhooks', 'max_attempts', 1000]]);
  if (!up) return;
  const { admin, stopCloser } = up;

  let r = await g.api('POST', '/v2/wallet/import', { key: admin, body: { secret: G.secret } });
  h.eq(r.status, 201, 'genesis imported');
  r = await g.api('POST', '/v2/wallet/new', { key: admin, body: { label: 'a' } });
  const A = r.body.wallet && r.body.wallet.address;
  if (!h.ok(r.status === 201 && A, 'wallet made', r.body)) return;

  let down = true;
  const rxDown = g.receiver(() => (down ? 503 : 200));
  const rxUp = g.receiver(() => 200);
  await Promise.all([rxDown.ready, rxUp.ready]);
  r = await g.api('POST', '/v2/webhooks', { key: admin, body: { url: rxDown.url(), accounts: [A] } });
  const hookDown = r.body.webhook && r.body.webhook.id;
  r = await g.api('POST', '/v2/webhooks', { key: admin, body: { url: rxUp.url(), accounts: [A] } });
  const hookUp = r.body.webhook && r.body.webhook.id;
  h.ok(hookDown && hookUp, 'two webhooks on A: one endpoint down, one up');

  const pay = (cid) => g.api('POST', `/v2/accounts/${G.address}/payments?wait=validated`,
    { key: admin, body: { client_id: cid, payment: { destination: A, amount: { value: '10', currency: 'SWT' } } } });
  const hashes = [];
  for (let i = 0; i < PAYMENTS; i++) {
    r = await pay(`p${i}`);
    if (!h.ok(r.status === 200 && r.body.status === 'validated', `payment ${i} validated`, r.body)) return;
    hashes.push(r.body.hash);
    // The endpoint up has each event before the next payment.
    await until(() => rxUp.reqs.some((q) => q.body.hash === r.body.hash), 10000);
  }
  h.ok(hashes.every((x) => rxUp.reqs.some((q) => q.body.hash === x)),
       `the webhook whose endpoint is up got all ${PAYMENTS} events`);

  const listing = async () => {
    const l = await g.api('GET', '/v2/webhooks', { key: admin });
    const byId = {};
    for (const w of l.body.webhooks || []) byId[w.id] = w;
    return byId;
  };
  let w = await listing();
  const d = w[hookDown];
  h.ok(d && d.pending >= MAX - 1 && d.pending <= MAX && d.skipped === PAYMENTS - d.pending,
       `the webhook whose endpoint is down: ${d && d.pending} owed, ${d && d.skipped} skipped (max_owed ${MAX})`, d);
  h.ok(w[hookUp] && w[hookUp].skipped === 0, 'the webhook up: nothing skipped', w[hookUp]);
  r = await g.api('GET', '/metrics', { key: admin });
  const m = /^jt_gateway_webhook_deliveries_total\{result="skipped"\} (\d+)$/m.exec(r.body);
  h.ok(m && +m[1] === d.skipped, '/metrics counts the skipped deliveries', m && m[0]);
  h.ok(g.logs.filter((l) => /event=owed_full/.test(l) && l.includes(`hook=${hookDown}`)).length === 1,
       'one owed_full line for the webhook, naming it', g.logs.filter((l) => /owed_/.test(l)));

  // Back up: what was owed is delivered, and new events flow again.
  down = false;
  const drained = await until(async () => ((await listing())[hookDown] || {}).pending === 0, 15000);
  h.ok(drained, 'the owed deliveries drain once the endpoint answers');
  const delivered = new Set(rxDown.reqs.filter((q) => q.status === 200).map((q) => q.body.hash));
  h.eq(delivered.size, d.pending, 'as many distinct events delivered as were owed');
  r = await pay('after');
  const got = await until(() => rxDown.reqs.some((q) => q.body.hash === r.body.hash && q.status === 200), 10000);
  h.ok(r.status === 200 && got, 'a new event reaches the endpoint again');
  h.ok(g.logs.some((l) => /event=owed_resumed/.test(l) && l.includes(`hook=${hookDown}`)),
       'the gateway logs that the webhook resumed');

  // Dead letters are bounded too: with max_dead_letters = 3 and two
  // attempts each, six deliveries to an endpoint that is gone leave the
  // newest three, across a restart, and the oldest goes first.
  await g.stop();
  g.set('webhooks', 'max_owed', '100000');
  g.set('webhooks', 'max_attempts', '2');
  g.set('webhooks', 'max_dead_letters', '3');
  await g.start();
  await g.waitHealthy(20000);
  r = await g.api('POST', '/v2/webhooks', { key: admin, body: { url: 'http://127.0.0.1:1/gone', accounts: [A] } });
  const hookGone = r.body.webhook && r.body.webhook.id;
  h.ok(hookGone, 'a webhook whose endpoint is gone');
  const deadState = async () => {
    const l = await g.api('GET', '/v2/webhooks', { key: admin });
    const mm = await g.api('GET', '/metrics', { key: admin });
    const num = (name) => { const x = new RegExp(`^${name} (\\d+)$`, 'm').exec(mm.body); return x ? +x[1] : NaN; };
    return { ids: (l.body.dead_letters || []).filter((x) => x.webhook === hookGone).map((x) => x.id),
             total: l.body.dead_total, kept: num('jt_gateway_webhook_dead_letters'),
             dropped: num('jt_gateway_webhook_dead_letters_dropped_total') };
  };
  const ledgers = [];
  for (let i = 0; i < 6; i++) {
    r = await pay(`gone${i}`);
    if (!h.ok(r.status === 200 && r.body.status === 'validated', `payment gone${i} validated`, r.body)) return;
    ledgers.push(r.body.ledger_index);
    // Each delivery dies before the next is made, so they die in order.
    await until(async () => { const st = await deadState(); return st.kept + st.dropped === i + 1; }, 15000);
  }
  let st = await deadState();
  const newest = (n) => ledgers.slice(-n).map((li) => `${li}:`);
  const holds = (ids, prefixes) => ids.length === prefixes.length && prefixes.every((p) => ids.some((x) => x.startsWith(p)));
  h.ok(st.total === 3 && st.kept === 3 && st.dropped === 3 && holds(st.ids, newest(3)),
       'six dead: the newest three kept, three dropped (/v2/webhooks and /metrics)', st);
  h.ok(g.logs.filter((l) => /event=dead_letter_dropped/.test(l)).length === 1,
       'the first drop is logged (then one line in 1 000)', g.logs.filter((l) => /dead_letter_dropped/.test(l)));
  await g.stop();
  await g.start();
  await g.waitHealthy(20000);
  st = await deadState();
  h.ok(st.kept === 3 && holds(st.ids, newest(3)), 'after a restart the same three are kept', st);
  r = await pay('gone6');
  ledgers.push(r.body.ledger_index);
  await until(async () => (await deadState()).dropped >= 1, 15000);
  st = await deadState();
  h.ok(st.total === 3 && st.dropped === 1 && holds(st.ids, newest(3)),
       'one more: the oldest of those (as loaded at start) goes', st);
  await Promise.all([rxDown.close(), rxUp.close()]);
  stopCloser();
});
