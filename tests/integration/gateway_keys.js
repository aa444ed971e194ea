// gateway_keys.js — jt-gateway keeps at most [keystore] keys_loaded signing
// keys decrypted: with a limit of 2 and six accounts signing (genesis and
// five made by the gateway), every payment is still signed and validated,
// bursts across all five accounts at once included; keys are dropped and
// decrypted again (/metrics counts both), and once a burst's batches are
// written the number loaded is back within the limit. The balances show
// each payment applied exactly once. Between bursts no key is readable.
'use strict';

const build = process.argv[2];
const h = require('./harness')('gateway-keys', 'jt-gw-keys-', build);
const g = require('./gw_harness')(h, build);

const G = h.GENESIS;
const LIMIT = 2;
const N = 5;
const ROUNDS = 3;

function metric(text, name) {
  const m = new RegExp(`^${name} (\\d+)$`, 'm').exec(text);
  return m ? +m[1] : NaN;
}

h.run(async () => {
  const up = await g.boot([['keystore', 'keys_loaded', LIMIT]]);
  if (!up) return;
  const { admin, stopCloser } = up;

  let r = await g.api('POST', '/v2/wallet/import', { key: admin, body: { secret: G.secret, label: 'genesis' } });
  h.eq(r.status, 201, 'genesis imported');
  const W = [];
  for (let i = 0; i < N; i++) {
    r = await g.api('POST', '/v2/wallet/new', { key: admin, body: { label: `w${i}` } });
    if (!h.ok(r.status === 201, `wallet w${i} made`, r.body)) return;
    W.push(r.body.wallet.address);
  }
  const swt = (v) => ({ value: String(v), currency: 'SWT' });
  const pay = (from, cid, to, v) => g.api('POST', `/v2/accounts/${from}/payments?wait=validated`,
    { key: admin, body: { client_id: cid, payment: { destination: to, amount: swt(v) } } });

  // Funding: genesis, then each wallet's first use.
  const fund = await Promise.all(W.map((w, i) => pay(G.address, `fund-${i}`, w, 100)));
  h.ok(fund.every((x) => x.status === 200 && x.body.status === 'validated'),
       `${N} wallets funded, all validated`, fund.map((x) => x.body.status || x.body.error));

  // Rounds of bursts: every wallet pays the next one 1 SWT, all at once.
  let all = true;
  for (let round = 0; round < ROUNDS; round++) {
    const res = await Promise.all(W.map((w, i) => pay(w, `r${round}-${i}`, W[(i + 1) % N], 1)));
    const bad = res.filter((x) => !(x.status === 200 && x.body.status === 'validated' && x.body.result === 'tesSUCCESS'));
    if (bad.length) { all = false; h.ok(false, `round ${round}: every payment validated`, bad.map((x) => x.body)); }
  }
  h.ok(all, `${ROUNDS} bursts of ${N} payments across ${N} accounts with ${LIMIT} keys loaded at most: all validated`);
  // A burst loads all five keys at once (none may go while the signer uses
  // it); once its batches are written the gateway is back within the limit.
  r = await g.api('GET', '/metrics', { key: admin });
  h.ok(metric(r.body, 'jt_gateway_persist_queue') === 0 && metric(r.body, 'jt_gateway_keys_loaded') <= LIMIT,
       `after the bursts, at most ${LIMIT} keys loaded`, r.body.split('\n').filter((l) => /keys|persist/.test(l)));
  // The signer keeps keys readable during a burst of signing only: 5 ms
  // after its last batch (the answers came after that batch), none is.
  await new Promise((res) => setTimeout(res, 50));
  r = await g.api('GET', '/metrics', { key: admin });
  h.eq(metric(r.body, 'jt_gateway_keys_readable'), 0, 'no signing key readable between bursts');
  // One account after another, each key evicted before its next use.
  for (let i = 0; i < N; i++) {
    r = await pay(W[i], `seq-${i}`, G.address, 1);
    if (!(r.status === 200 && r.body.status === 'validated')) { all = false; h.ok(false, `sequential payment from w${i}`, r.body); }
  }
  h.ok(all, 'payments one account after another: all validated');

  r = await g.api('GET', '/metrics', { key: admin });
  const loaded = metric(r.body, 'jt_gateway_keys_loaded');
  const loads = metric(r.body, 'jt_gateway_key_loads_total');
  const dropped = metric(r.body, 'jt_gateway_keys_dropped_total');
  h.ok(loaded >= 1 && loaded <= LIMIT, `at rest, at most ${LIMIT} keys loaded (${loaded})`, r.body);
  // Six accounts signed; with room for two, each burst and the sequential
  // pass decrypt most of the five wallets again.
  h.ok(loads >= N + 1 + N, `keys decrypted again after being dropped (${loads} loads)`, loads);
  h.eq(loads - dropped, loaded, 'loads - dropped = loaded');

  // Each wallet: +100, -1 and +1 per round, -1 at the end, fees 0.01 each.
  const fee = 0.01;
  for (let i = 0; i < N; i++) {
    r = await g.api('GET', `/v2/accounts/${W[i]}/balances`, { key: admin });
    const swtBal = r.body.balances && r.body.balances.find((b) => b.currency === 'SWT');
    const want = (100 - 1 - (ROUNDS + 1) * fee).toFixed(2);
    h.ok(swtBal && Number(swtBal.value).toFixed(2) === want, `w${i}: ${want} SWT (each payment applied once)`, swtBal);
  }
  stopCloser();
});
