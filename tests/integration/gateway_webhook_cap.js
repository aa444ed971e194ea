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
  // attempts each, six deliveries to endpoints that are gone leave the
  // newest three, across a restart, and the oldest goes first. Two webhooks
  // take turns, so the order the letters died in is not the order of their
  // keys in the store (webhook id first): the restart must keep the former.
  r = await g.api('POST', '/v2/wallet/new', { key: admin, body: { label: 'b' } });
  const B = r.body.wallet && r.body.wallet.address;
  r = await g.api('POST', `/v2/accounts/${G.address}/payments?wait=validated`,
    { key: admin, body: { client_id: 'fund-b', payment: { destination: B, amount: { value: '100', currency: 'SWT' } } } });
  h.ok(B && r.status === 200 && r.body.status === 'validated', 'a second wallet, funded', r.body);
  await g.stop();
  g.set('webhooks', 'max_owed', '100000');
  g.set('webhooks', 'max_attempts', '2');
  g.set('webhooks', 'max_dead_letters', '3');
  await g.start();
  await g.waitHealthy(20000);
  const gone = {};
  for (const acct of [A, B]) {
    r = await g.api('POST', '/v2/webhooks', { key: admin, body: { url: 'http://127.0.0.1:1/gone', accounts: [acct] } });
    gone[acct] = r.body.webhook && r.body.webhook.id;
  }
  h.ok(gone[A] && gone[B], 'two webhooks whose endpoint is gone, one for A and one for B');
  // S: the account whose webhook id sorts first; L: the other.
  const [S, L] = gone[A] < gone[B] ? [A, B] : [B, A];
  const deadState = async () => {
    const l = await g.api('GET', '/v2/webhooks', { key: admin });
    const mm = await g.api('GET', '/metrics', { key: admin });
    const num = (name) => { const x = new RegExp(`^${name} (\\d+)$`, 'm').exec(mm.body); return x ? +x[1] : NaN; };
    const ours = new Set([gone[A], gone[B]]);
    return { ids: (l.body.dead_letters || []).filter((x) => ours.has(x.webhook)).map((x) => `${x.webhook}@${x.id.split(':')[0]}`).sort(),
             total: l.body.dead_total, kept: num('jt_gateway_webhook_dead_letters'),
             dropped: num('jt_gateway_webhook_dead_letters_dropped_total') };
  };
  const died = []; // `${webhook}@${ledger}`, in the order they died
  const payTo = async (acct, cid) => {
    const x = await g.api('POST', `/v2/accounts/${G.address}/payments?wait=validated`,
      { key: admin, body: { client_id: cid, payment: { destination: acct, amount: { value: '1', currency: 'SWT' } } } });
    if (!h.ok(x.status === 200 && x.body.status === 'validated', `payment ${cid} validated`, x.body)) return false;
    died.push(`${gone[acct]}@${x.body.ledger_index}`);
    // Each delivery dies before the next is made, so they die in this order.
    // /metrics counts a dead letter when it dies, /v2/webhooks lists it once
    // its store commit is done: wait for both.
    const last = died[died.length - 1];
    return h.until(async () => {
      const st = await deadState();
      return st.kept + st.dropped === died.length && st.ids.includes(last);
    }, 15000);
  };
  for (let i = 0; i < 6; i++)
    if (!(await payTo(i % 2 ? L : S, `gone${i}`))) return;
  let st = await deadState();
  const newest = () => died.slice(-3).sort();
  h.ok(st.total === 3 && st.kept === 3 && st.dropped === 3 && JSON.stringify(st.ids) === JSON.stringify(newest()),
       'six dead: the newest three kept, three dropped (/v2/webhooks and /metrics)', { st, newest: newest() });
  h.ok(g.logs.filter((l) => /event=dead_letter_dropped/.test(l)).length === 1,
       'the first drop is logged (then one line in 1 000)', g.logs.filter((l) => /dead_letter_dropped/.test(l)));
  await g.stop();
  await g.start();
  await g.waitHealthy(20000);
  st = await deadState();
  h.ok(st.kept === 3 && JSON.stringify(st.ids) === JSON.stringify(newest()), 'after a restart the same three are kept', st);
  // Kept, oldest first: L's, S's, L's. In key order S's would come first.
  await payTo(S, 'gone6');
  st = await deadState();
  h.ok(st.total === 3 && st.dropped === 1 && JSON.stringify(st.ids) === JSON.stringify(newest()),
       'one more: the oldest to die goes (as before the restart, not as the store orders them)', { st, newest: newest() });
  await Promise.all([rxDown.close(), rxUp.close()]);
  stopCloser();
});
