// gateway_api.js — jt-gateway through real HTTP against a real jt-node:
// authentication and scopes, every error status, idempotent writes under
// concurrency, 200 concurrent payments from one account, the issuer's
// token flow (trust, issue, order book, cancel, settings), blobs signed by
// jingtum-lib, the node going away (503, nothing signed), restarts, the
// OpenAPI document against the routes served, the audit log, and a scan
// of everything the gateway said or wrote for the secrets it holds.
'use strict';
const fs = require('fs');
const path = require('path');
const { spawnSync } = require('child_process');

const build = process.argv[2];
const h = require('./harness')('gateway', 'jt-gw-api-', build);
const g = require('./gw_harness')(h, build);

const G = h.GENESIS;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

h.run(async () => {
  if (!h.init()) return;
  const nodePort = await h.startNode();
  h.c = h.client(nodePort);
  await h.c.ready;
  if (!g.init(`ws://127.0.0.1:${nodePort}`)) return;
  const admin = g.apikey('admin', '*');
  const reader = g.apikey('read');
  await g.start();
  let stopCloser = g.closer(150);

  // ---- health and authentication (the link needs a moment on a busy machine)
  await g.waitHealthy(20000);
  let r = await g.api('GET', '/v2/health');
  h.ok(r.status === 200 && r.body.status === 'ok' && r.body.validated_ledger > 0 &&
       r.body.node.state === 'connected', 'health: public, node connected, a validated ledger', r.body);
  r = await g.api('GET', '/v2/wallets');
  h.ok(r.status === 401 && r.body.error === 'unauthorized' && r.headers['www-authenticate'] === 'Bearer' &&
       r.body.success === false && r.body.status_code === '401', '401 without an API key (envelope kept)', r);
  r = await g.api('GET', '/v2/wallets', { key: admin.slice(0, -1) + (admin.endsWith('0') ? '1' : '0') });
  h.eq(r.status, 401, '401 with one digit of the key changed');
  const revoked = g.apikey('read');
  h.eq((await g.api('GET', '/v2/wallets', { key: revoked })).status, 200, 'a new key works at once');
  const rv = g.cli(['apikey', 'revoke', revoked.split('_')[1]]);
  h.ok(rv.status === 0, 'apikey revoke while the gateway runs', rv.stderr);
  h.eq((await g.api('GET', '/v2/wallets', { key: revoked })).status, 401, 'a revoked key is refused at once');

  // ---- keys
  r = await g.api('POST', '/v2/wallet/import', { key: admin, body: { secret: G.secret, label: 'genesis' } });
  h.ok(r.status === 201 && r.body.wallet.address === G.address && !JSON.stringify(r.body).includes(G.secret),
       'wallet/import (admin): the address, never the secret', r.body);
  r = await g.api('POST', '/v2/wallet/import', { key: reader, body: { secret: G.secret } });
  h.eq(r.status, 403, 'wallet/import needs admin');
  r = await g.api('POST', '/v2/wallet/new', { key: admin, body: { label: 'issuer' } });
  const A = r.body.wallet && r.body.wallet.address;
  h.ok(r.status === 201 && A && r.body.wallet.key_type === 'secp256k1', 'wallet/new secp256k1', r.body);
  r = await g.api('POST', '/v2/wallet/new', { key: admin, body: { key_type: 'ed25519', label: 'customer' } });
  const B = r.body.wallet && r.body.wallet.address;
  h.ok(r.status === 201 && B && r.body.wallet.key_type === 'ed25519', 'wallet/new ed25519', r.body);
  r = await g.api('POST', '/v2/wallet/new', { key: admin, body: { key_type: 'rsa' } });
  h.ok(r.status === 400 && r.body.field === 'key_type', '400 names the field (key_type)', r.body);
  const C = h.keygen(); // an account the gateway does not hold

  const signA = g.apikey('read,sign', A);
  const issueA = g.apikey('read,sign,issue', A);
  const signB = g.apikey('read,sign', B);
  r = await g.api('GET', '/v2/wallets', { key: signA });
  h.ok(r.status === 200 && r.body.wallets.length === 1 && r.body.wallets[0].address === A,
       'wallets: a key sees the accounts on its allow list', r.body);

  // ---- funding, wait=validated
  const pay = (from, key, cid, payment, q) => g.api('POST', `/v2/accounts/${from}/payments${q || ''}`, { key, body: { client_id: cid, payment } });
  const swt = (v) => ({ value: String(v), currency: 'SWT' });
  for (const [who, cid] of [[A, 'fund-a'], [B, 'fund-b']]) {
    r = await pay(G.address, admin, cid, { destination: who, amount: swt(5000) }, '?wait=validated');
    h.ok(r.status === 200 && r.body.status === 'validated' && r.body.result === 'tesSUCCESS' &&
         /^[0-9A-F]{64}$/.test(r.body.hash) && r.body.ledger_index > 0 && r.body.last_ledger_sequence > 0,
         `payment ${cid}: validated with wait=validated`, r.body);
  }
  r = await g.api('GET', `/v2/accounts/${A}/balances`, { key: reader });
  h.ok(r.status === 200 && r.body.balances[0].currency === 'SWT' && r.body.balances[0].value === '5000' &&
       r.body.balances[0].freezed === '10', 'balances: 5000 SWT, 10 frozen (the reserve)', r.body);
  r = await g.api('GET', `/v2/accounts/${A}/info`, { key: reader });
  h.ok(r.status === 200 && r.body.account_data.Balance === '5000000000', 'info: the account root', r.body);

  // ---- errors
  r = await pay(G.address, reader, 'x1', { destination: A, amount: swt(1) });
  h.ok(r.status === 403 && r.body.error === 'forbidden', '403: read key cannot sign', r.body);
  r = await pay(G.address, signA, 'x2', { destination: A, amount: swt(1) });
  h.ok(r.status === 403, '403: sign key for A cannot act for genesis', r.body);
  r = await pay(C.address, admin, 'x3', { destination: A, amount: swt(1) });
  h.ok(r.status === 404 && r.body.error === 'accountNotHeld', '404: an account the gateway holds no key for', r.body);
  r = await g.api('GET', '/v2/nothing', { key: admin });
  h.eq(r.status, 404, '404: unknown endpoint');
  r = await g.api('PUT', `/v2/accounts/${A}/payments`, { key: admin, body: {} });
  h.eq(r.status, 405, '405: a known path with another method');
  r = await g.api('GET', '/v2/accounts/jNotAnAddress/balances', { key: admin });
  h.ok(r.status === 400 && r.body.error === 'badAddress', '400: bad address', r.body);
  r = await g.api('POST', `/v2/accounts/${A}/payments`, { key: signA, body: '{"client_id": "x4", "payment": {' });
  h.ok(r.status === 400 && r.body.error === 'badJson', '400: malformed JSON', r.body);
  r = await pay(A, signA, 'x5', { destination: B, amount: swt(1), colour: 'red' });
  h.ok(r.status === 400 && r.body.field === 'payment.colour', '400: unknown field, named', r.body);
  r = await pay(A, signA, 'x6', { destination: B, amount: { value: '1.0000001', currency: 'SWT' } });
  h.ok(r.status === 400 && r.body.field === 'payment.amount.value', '400: bad amount, field named', r.body);
  r = await pay(A, signA, 'x7', { destination: 'jBogus', amount: swt(1) });
  h.ok(r.status === 400 && r.body.field === 'payment.destination', '400: bad destination', r.body);
  r = await pay(A, signA, '', { destination: B, amount: swt(1) });
  h.ok(r.status === 400 && r.body.error === 'badClientId', '400: client_id required', r.body);
  r = await pay(A, signA, 'self', { destination: A, amount: swt(1) }, '?wait=validated');
  h.ok(r.status === 422 && /^tem/.test(r.body.error) && r.body.status === 'failed' && r.body.error_type === 'transaction',
       '422: the node rejected it (tem…), status failed', r.body);
  // the sequence the rejected one had is used by the next one
  r = await pay(A, signA, 'after-reject', { destination: B, amount: swt(1) }, '?wait=validated');
  h.ok(r.status === 200 && r.body.status === 'validated', 'after a rejection the next payment is not stuck', r.body);

  // ---- idempotency
  r = await pay(A, signA, 'once', { destination: B, amount: swt(2) }, '?wait=validated');
  const onceHash = r.body.hash;
  r = await pay(A, signA, 'once', { destination: B, amount: swt(2) });
  h.ok(r.status === 200 && r.body.hash === onceHash && r.body.status === 'validated', 'same client_id, same body: the same transaction', r.body);
  r = await pay(A, signA, 'once', { destination: B, amount: swt(3) });
  h.ok(r.status === 409 && r.body.error === 'clientIdReused', '409: client_id reused with another body', r.body);
  r = await g.api('GET', `/v2/accounts/${A}/payments/once`, { key: reader });
  h.ok(r.status === 200 && r.body.hash === onceHash && r.body.status === 'validated', 'GET payment by client_id', r.body);
  r = await g.api('GET', `/v2/accounts/${A}/payments/${onceHash}`, { key: reader });
  h.ok(r.status === 200 && r.body.status === 'validated' && r.body.transaction && r.body.transaction.Destination === B,
       'GET payment by hash (the node\'s record)', r.body);
  r = await g.api('GET', `/v2/transactions/${onceHash}`, { key: reader });
  h.ok(r.status === 200 && r.body.status === 'validated' && r.body.result === 'tesSUCCESS', 'GET /v2/transactions/{hash}', r.body);
  r = await g.api('GET', `/v2/transactions/${'0'.repeat(64)}`, { key: reader });
  h.eq(r.status, 404, '404: unknown transaction');

  // 50 concurrent identical requests: one transaction.
  const before = (await g.api('GET', `/v2/accounts/${B}/balances`, { key: reader })).body.balances[0].value;
  const same = await Promise.all(Array.from({ length: 50 }, () => pay(A, signA, 'fifty', { destination: B, amount: swt(7) }, '?wait=validated')));
  const hashes = new Set(same.map((x) => x.body.hash));
  h.ok(same.every((x) => x.status === 200 && x.body.status === 'validated') && hashes.size === 1,
       '50 concurrent identical requests: all answered with one validated transaction',
       same.map((x) => [x.status, x.body.hash, x.body.status]).slice(0, 5));
  await sleep(400);
  const after = (await g.api('GET', `/v2/accounts/${B}/balances`, { key: reader })).body.balances[0].value;
  h.eq(Number(after) - Number(before), 7, '... and the destination received 7 SWT once');

  // 200 concurrent payments from one account.
  const many = await Promise.all(Array.from({ length: 200 }, (_, i) => pay(A, signA, `many-${i}`, { destination: B, amount: swt(0.01) }, '?wait=validated')));
  const seqs = many.map((x) => x.body.sequence).sort((a, b) => a - b);
  const contiguous = seqs.every((s, i) => i === 0 || s === seqs[i - 1] + 1);
  h.ok(many.every((x) => x.status === 200 && x.body.status === 'validated' && x.body.result === 'tesSUCCESS') &&
       new Set(seqs).size === 200 && contiguous,
       '200 concurrent payments from one account: all validated, 200 consecutive sequences',
       many.filter((x) => x.status !== 200 || x.body.status !== 'validated').slice(0, 3).map((x) => x.body));

  // ---- the issuer's token: trust, issue, book, cancel, settings
  const CNY = (v) => ({ value: String(v), currency: 'CNY', issuer: A });
  r = await g.api('POST', `/v2/accounts/${A}/settings`, { key: signA, body: { client_id: 's0', settings: { require_auth: false } } });
  h.eq(r.status, 403, '403: settings need the issue scope');
  r = await g.api('POST', `/v2/accounts/${A}/settings?wait=validated`, { key: issueA, body: { client_id: 's1', settings: { transfer_rate: '0.001', domain: 'bank.example' } } });
  h.ok(r.status === 200 && r.body.result === 'tesSUCCESS' && r.body.type === 'AccountSet', 'settings: transfer rate and domain', r.body);
  r = await g.api('GET', `/v2/accounts/${A}/info`, { key: reader });
  h.ok(r.body.account_data && r.body.account_data.TransferRate === 1001000000, '... TransferRate 1.001', r.body.account_data);
  r = await g.api('POST', `/v2/accounts/${B}/relations?wait=validated`, { key: signB, body: { client_id: 't1', type: 'trust', amount: { limit: '10000', currency: 'CNY', issuer: A } } });
  h.ok(r.status === 200 && r.body.type === 'TrustSet' && r.body.result === 'tesSUCCESS', 'relations: B trusts A for CNY', r.body);
  r = await pay(A, signA, 'issue-1', { destination: B, amount: CNY(100) }, '?wait=validated');
  h.ok(r.status === 200 && r.body.result === 'tesSUCCESS', 'issue 100 CNY to B', r.body);
  r = await g.api('GET', `/v2/accounts/${B}/balances?currency=CNY`, { key: reader });
  h.ok(r.status === 200 && r.body.balances.length === 1 && r.body.balances[0].value === '100' && r.body.balances[0].issuer === A,
       'balances ?currency=CNY: 100 CNY from A', r.body);
  r = await g.api('GET', `/v2/accounts/${B}/relations`, { key: reader });
  h.ok(r.status === 200 && r.body.relations[0].counterparty === A && r.body.relations[0].limit === '10000', 'GET relations: the trust line', r.body);
  r = await g.api('POST', `/v2/accounts/${B}/orders?wait=validated`, { key: signB, body: { client_id: 'o1', order: { type: 'sell', pair: `CNY:${A}/SWT`, amount: '10', price: '2.5' } } });
  h.ok(r.status === 200 && r.body.type === 'OfferCreate' && r.body.result === 'tesSUCCESS', 'orders: B sells 10 CNY at 2.5 SWT', r.body);
  const offerSeq = r.body.sequence;
  r = await g.api('GET', `/v2/accounts/${B}/orders`, { key: reader });
  h.ok(r.status === 200 && r.body.orders.length === 1 && r.body.orders[0].type === 'sell' && r.body.orders[0].amount === '10' &&
       r.body.orders[0].price === '2.5' && r.body.orders[0].pair === `CNY:${A}/SWT`, 'GET orders: the sell order as placed', r.body);
  r = await g.api('GET', `/v2/order_book/CNY+${A}/SWT`, { key: reader });
  h.ok(r.status === 200 && r.body.asks.length === 1 && r.body.asks[0].price === '2.5' && r.body.bids.length === 0, 'order_book: one ask at 2.5', r.body);
  r = await g.api('GET', `/v2/order_book/CNY+jBad/SWT`, { key: reader });
  h.eq(r.status, 400, '400: bad order book side');
  r = await g.api('DELETE', `/v2/accounts/${B}/orders/${offerSeq}?wait=validated`, { key: signB, headers: { 'Idempotency-Key': 'c1' } });
  h.ok(r.status === 200 && r.body.type === 'OfferCancel' && r.body.result === 'tesSUCCESS', 'DELETE order (Idempotency-Key)', r.body);
  r = await g.api('GET', `/v2/accounts/${B}/orders`, { key: reader });
  h.ok(r.status === 200 && r.body.orders.length === 0, '... the book is empty', r.body);
  r = await g.api('POST', `/v2/accounts/${A}/relations?wait=validated`, { key: signA, body: { client_id: 'f0', type: 'freeze', counterparty: B, amount: { limit: '0', currency: 'CNY', issuer: A } } });
  h.eq(r.status, 403, '403: freezing needs the issue scope');
  r = await g.api('POST', `/v2/accounts/${A}/relations?wait=validated`, { key: issueA, body: { client_id: 'f1', type: 'freeze', counterparty: B, amount: { limit: '0', currency: 'CNY', issuer: A } } });
  h.ok(r.status === 200 && r.body.type === 'RelationSet', 'relations: freeze (issue scope)', r.body);
  r = await g.api('DELETE', `/v2/accounts/${A}/relations?wait=validated`, { key: issueA, body: { client_id: 'f2', type: 'unfreeze', counterparty: B, amount: { limit: '0', currency: 'CNY', issuer: A } } });
  h.ok(r.status === 200 && r.body.type === 'RelationDel', 'relations: unfreeze', r.body);

  // ---- history
  r = await g.api('GET', `/v2/accounts/${B}/payments?limit=5`, { key: reader });
  h.ok(r.status === 200 && r.body.payments && r.body.payments.length === 5 && r.body.payments.every((p) => p.type === 'received') && typeof r.body.marker === 'string',
       'payments history: a page of 5 payments with an opaque marker', r.body.payments && r.body.payments.map((p) => p.type));
  const page1 = (r.body.payments || []).map((p) => p.hash);
  r = await g.api('GET', `/v2/accounts/${B}/payments?limit=5&marker=${r.body.marker}`, { key: reader });
  const page2 = (r.body.payments || []).map((p) => p.hash);
  const ten = ((await g.api('GET', `/v2/accounts/${B}/payments?limit=10`, { key: reader })).body.payments || []).map((p) => p.hash);
  h.ok(r.status === 200 && page2.length === 5 && JSON.stringify(page1.concat(page2)) === JSON.stringify(ten),
       'the next page through the marker: no payment skipped or repeated', { page1, page2, ten });
  r = await g.api('GET', `/v2/accounts/${B}/payments?marker=7b2241`, { key: reader });
  h.ok(r.status === 400 && r.body.field === 'marker', '400: a marker that is not one', r.body);
  r = await g.api('GET', `/v2/accounts/${B}/transactions?limit=50`, { key: reader });
  const kinds = new Set((r.body.transactions || []).map((t) => t.type));
  h.ok(r.status === 200 && kinds.has('received') && kinds.has('trusting') && kinds.has('offernew') && kinds.has('offercancel'),
       'transactions: the old API\'s types', [...kinds]);
  r = await g.api('GET', '/v2/ledger/index', { key: reader });
  h.ok(r.status === 200 && r.body.ledger_index > 0 && /^[0-9A-F]{64}$/.test(r.body.ledger_hash), 'ledger/index', r.body);
  const lh = r.body.ledger_hash, li = r.body.ledger_index;
  r = await g.api('GET', `/v2/ledger/hash/${lh}`, { key: reader });
  h.ok(r.status === 200 && r.body.ledger_index === li, 'ledger/hash/{hash}', r.body);
  r = await g.api('GET', `/v2/ledger/index/${li}`, { key: reader });
  h.ok(r.status === 200 && r.body.ledger_hash === lh, 'ledger/index/{n}', r.body);
  r = await g.api('GET', '/v2/ledger/index/999999999', { key: reader });
  h.eq(r.status, 404, '404: unknown ledger');

  // ---- a blob signed by jingtum-lib
  {
    const jl = require(path.join(__dirname, '../interop/node_modules/jingtum-lib'));
    const saved = console.log;
    console.log = () => {};
    const remote = new jl.Remote({ server: 'ws://127.0.0.1:1', local_sign: true });
    const info = await h.c.request({ command: 'account_info', account: G.address, ledger_index: 'current' });
    const tx = remote.buildPaymentTx({ account: G.address, to: C.address, amount: { value: 50, currency: 'SWT', issuer: '' } });
    tx.setFee(10000);
    tx.setSecret(G.secret);
    tx.setSequence(info.result.account_data.Sequence);
    tx.tx_json.LastLedgerSequence = (await h.c.request({ command: 'ledger_closed' })).result.ledger_index + 20;
    let blob;
    tx.sign((e, b) => { blob = b; });
    console.log = saved;
    r = await g.api('POST', '/v2/blob?wait=validated', { key: admin, body: { blob: blob.toUpperCase(), client_id: 'jl-1' } });
    h.ok(r.status === 200 && r.body.status === 'validated' && r.body.result === 'tesSUCCESS' && r.body.account === G.address,
         'POST /v2/blob: a jingtum-lib blob tracked to validated', r.body);
    r = await g.api('POST', '/v2/blob', { key: signA, body: { blob: blob.toUpperCase() } });
    h.eq(r.status, 403, '403: a blob of an account the key may not act for');
    r = await g.api('POST', '/v2/blob', { key: admin, body: { blob: 'DEADBEEF' } });
    h.ok(r.status === 400 && r.body.error === 'badBlob', '400: not a transaction', r.body);
  }

  // ---- a transaction that can never apply expires (honestly, not "failed")
  {
    const info = await h.c.request({ command: 'account_info', account: G.address, ledger_index: 'current' });
    const closed = (await h.c.request({ command: 'ledger_closed' })).result.ledger_index;
    const tx = { TransactionType: 'Payment', Account: G.address, Destination: C.address, Amount: '1000000', Fee: '10000',
      Sequence: info.result.account_data.Sequence + 50, LastLedgerSequence: closed + 3 };
    const signed = spawnSync(h.WALLET, ['sign'], { input: `${G.secret}\n${JSON.stringify(tx)}\n`, encoding: 'utf8' });
    const blob = JSON.parse(signed.stdout).tx_blob;
    r = await g.api('POST', '/v2/blob', { key: admin, body: { blob, client_id: 'future-seq' } });
    h.ok(r.status === 202 && r.body.status === 'pending', 'a blob with a future sequence: pending (held by the node)', r.body);
    r = await g.api('POST', '/v2/blob?wait=validated', { key: admin, body: { blob, client_id: 'future-seq' } });
    h.ok(r.status === 200 && r.body.status === 'expired' && r.body.result !== 'tesSUCCESS', '... expired once its LastLedgerSequence passed', r.body);
    r = await g.api('GET', `/v2/accounts/${G.address}/payments/future-seq`, { key: reader });
    h.ok(r.status === 200 && r.body.status === 'expired', '... and stays expired', r.body);
  }

  // ---- OpenAPI: every documented route is served
  r = await g.api('GET', '/v2/openapi.json');
  const spec = r.body;
  h.ok(r.status === 200 && spec.openapi && Object.keys(spec.paths).length >= 20, 'openapi.json served', Object.keys(spec.paths || {}).length);
  const sample = { address: B, id: 'once', sequence: '1', base: 'SWT', counter: `CNY+${A}`, hash: onceHash, index: String(li) };
  const unserved = [];
  for (const [p, ops] of Object.entries(spec.paths || {})) {
    for (const m of Object.keys(ops)) {
      const url = p.replace(/\{(\w+)\}/g, (_, n) => sample[n]);
      const x = await g.api(m.toUpperCase(), url, { key: admin, body: m === 'get' ? undefined : {} });
      if (x.status === 404 && x.body.error === 'notFound' || x.status === 405) unserved.push(`${m} ${p} ${x.status}`);
    }
  }
  h.ok(unserved.length === 0, 'every route in openapi.json is served', unserved);
  const docSpec = JSON.parse(fs.readFileSync(path.join(__dirname, '../../docs/openapi.json'), 'utf8'));
  h.ok(JSON.stringify(docSpec) === JSON.stringify(spec),
       'docs/openapi.json is the document served (regenerate: jt-gateway openapi > docs/openapi.json)');

  // ---- CORS is off unless configured
  r = await g.api('GET', '/v2/health', { headers: { Origin: 'https://app.example' } });
  h.ok(r.headers['access-control-allow-origin'] === undefined, 'no CORS headers unless configured', r.headers);

  // ---- the node goes away: 503, nothing signed
  const auditLines = () => fs.readFileSync(path.join(g.dir, 'audit.log'), 'utf8').split('\n').filter(Boolean).length;
  stopCloser();
  await h.stopNode();
  await sleep(300);
  const n0 = auditLines();
  r = await pay(A, signA, 'while-down', { destination: B, amount: swt(1) });
  h.ok(r.status === 503 && r.body.error === 'nodeUnavailable' && r.body.error_type === 'network', '503 while the node is down', r.body);
  h.eq(auditLines(), n0, '... and nothing was signed (no audit line)');
  r = await g.api('GET', '/v2/health');
  h.ok(r.status === 503 && r.body.status === 'degraded', 'health says so (503, degraded)', r.body);
  r = await g.api('GET', `/v2/accounts/${A}/balances`, { key: reader });
  h.eq(r.status, 503, 'reads answer 503 too');
  // The node comes back on the same port.
  h.node = null;
  {
    const { spawn } = require('child_process');
    const readline = require('readline');
    await new Promise((resolve, reject) => {
      h.node = spawn(h.NODE, ['run', '--data', h.dir, '--ws', `127.0.0.1:${nodePort}`, '--jtp', '', '--close-ms', '0'], { stdio: ['ignore', 'ignore', 'pipe'] });
      readline.createInterface({ input: h.node.stderr }).on('line', (l) => { if (/event=start/.test(l)) resolve(); });
      h.node.on('exit', (c) => reject(new Error('node exited ' + c)));
    });
  }
  h.c = h.client(nodePort);
  await h.c.ready;
  stopCloser = g.closer(150);
  h.ok(await g.waitHealthy(20000), 'the gateway reconnects when the node returns');
  r = await pay(A, signA, 'after-return', { destination: B, amount: swt(1) }, '?wait=validated');
  h.ok(r.status === 200 && r.body.status === 'validated', 'writes work again after the node returns', r.body);

  // ---- restart: what was recorded is still there
  await g.stop();
  const second = spawnSync(g.GW, ['run', '--data', g.dir], { encoding: 'utf8', env: g.env(), timeout: 5000 });
  await g.start();
  h.ok(await g.waitHealthy(20000), 'restart: healthy again');
  r = await g.api('GET', `/v2/accounts/${A}/payments/once`, { key: reader });
  h.ok(r.status === 200 && r.body.hash === onceHash, 'restart: a payment is found by client_id', r.body);
  r = await pay(A, signA, 'once', { destination: B, amount: swt(2) });
  h.ok(r.status === 200 && r.body.hash === onceHash, 'restart: the same request is still the same transaction', r.body);
  const running = spawnSync(g.GW, ['run', '--data', g.dir], { encoding: 'utf8', env: g.env(), timeout: 5000 });
  h.ok(running.status !== 0 && /in use by jt-gateway pid \d+/.test(running.stderr), 'a second run on the directory is refused, naming the pid', running.stderr);
  void second;

  // ---- rate limit per API key
  await g.stop();
  g.set('limits', 'key_rate', '5');
  g.set('limits', 'key_burst', '5');
  g.set('http', 'cors_origins', 'https://app.example');
  g.set('http', 'conn_rate', '20');
  await g.start();
  await g.waitHealthy(20000);
  const burst = await Promise.all(Array.from({ length: 20 }, () => g.api('GET', '/v2/wallets', { key: reader })));
  const limited = burst.filter((x) => x.status === 429);
  h.ok(limited.length >= 10 && limited.every((x) => Number(x.headers['retry-after']) >= 1 && x.body.error === 'rateLimited') &&
       burst.filter((x) => x.status === 200).length >= 5, '429 past the key\'s rate, with Retry-After', burst.map((x) => x.status));
  h.eq((await g.api('GET', '/v2/wallets', { key: admin })).status, 200, 'another key is not limited by the first');
  {
    // One connection sending requests with no key at all: its own rate holds them back.
    const http = require('http');
    const one = new http.Agent({ keepAlive: true, maxSockets: 1 });
    // The gateway writes its log once per loop turn: let earlier lines in
    // before counting, and the flood's own lines after it.
    await sleep(500);
    const logged = g.logs.length;
    const flood = await Promise.all(Array.from({ length: 120 }, () => g.api('GET', '/v2/wallets', { agent: one })));
    await sleep(500);
    const slow = flood.filter((x) => x.status === 429);
    h.ok(slow.length >= 60 && slow.every((x) => x.body.error === 'slowDown' && x.headers['retry-after']) &&
         flood.filter((x) => x.status === 401).length >= 20,
         '429 slowDown past the connection\'s rate, API key or not', flood.map((x) => x.status).slice(0, 50));
    h.ok(g.logs.length - logged <= flood.length - slow.length + 5, 'requests refused for the rate are not logged one by one',
         g.logs.length - logged);
    one.destroy();
  }
  r = await g.api('OPTIONS', '/v2/wallets', { headers: { Origin: 'https://app.example', 'Access-Control-Request-Method': 'POST' } });
  h.ok(r.status === 204 && r.headers['access-control-allow-origin'] === 'https://app.example' &&
       /Authorization/.test(r.headers['access-control-allow-headers'] || ''), 'CORS preflight for a configured origin', r.headers);
  r = await g.api('GET', '/v2/health', { headers: { Origin: 'https://evil.example' } });
  h.ok(r.headers['access-control-allow-origin'] === undefined, 'no CORS header for another origin', r.headers);
  r = await g.api('GET', '/v2/health', { headers: { Origin: 'https://app.example' } });
  h.eq(r.headers['access-control-allow-origin'], 'https://app.example', 'CORS header for the configured origin');

  // ---- the audit log
  stopCloser();
  const end = await g.stop();
  h.ok(end && end.code === 0 && !g.logs.some((l) => /Sanitizer|runtime error/.test(l)),
       'the gateway stops cleanly on SIGTERM (exit 0, no sanitizer report)', { end, tail: g.logs.slice(-8) });
  let v = g.cli(['audit', 'verify']);
  h.ok(v.status === 0 && /records, chain intact/.test(v.stdout), 'audit verify: intact', v.stdout + v.stderr);
  const auditPath = path.join(g.dir, 'audit.log');
  const lines = fs.readFileSync(auditPath, 'utf8').split('\n').filter(Boolean);
  const signedHashes = new Set(lines.map((l) => JSON.parse(l).hash));
  h.ok(signedHashes.has(onceHash) && lines.every((l) => JSON.parse(l).api_key && JSON.parse(l).signing_key),
       'every signing is in the audit log with its key', lines.length);
  const edited = lines.slice();
  edited[3] = edited[3].replace('"Payment"', '"PaymenT"');
  const orig = fs.readFileSync(auditPath);
  fs.writeFileSync(auditPath, edited.join('\n') + '\n');
  v = g.cli(['audit', 'verify']);
  h.ok(v.status !== 0 && /line 4 was edited/.test(v.stderr), 'audit verify finds an edited line', v.stderr);
  fs.writeFileSync(auditPath, lines.slice(0, -1).join('\n') + '\n');
  v = g.cli(['audit', 'verify']);
  h.ok(v.status !== 0 && /were removed/.test(v.stderr), 'audit verify finds a removed last line', v.stderr);
  fs.writeFileSync(auditPath, orig);

  // ---- no secret leaves: responses, logs, audit, store files
  const secrets = [G.secret];
  for (const who of [A, B]) {
    const e = g.cli(['key', 'export', who]);
    if (h.ok(e.status === 0 && /^s\w{20,}$/.test(e.stdout.trim()), `key export ${who.slice(0, 6)}… (passphrase again)`, e.stderr)) secrets.push(e.stdout.trim());
  }
  const wrong = spawnSync(g.GW, ['key', 'list', '--data', g.dir], { encoding: 'utf8', env: Object.assign({}, process.env, { JT_GATEWAY_PASSPHRASE: 'wrong' }) });
  h.ok(wrong.status !== 0 && /passphrase/i.test(wrong.stderr) && !/\bs[1-9A-HJ-NP-Za-km-z]{25,}/.test(wrong.stdout), 'a wrong passphrase does not open the keystore', wrong.stderr);
  const haystacks = [['responses', g.bodies.join('\n')], ['gateway log', g.logs.join('\n')], ['audit log', fs.readFileSync(auditPath, 'latin1')]];
  for (const f of fs.readdirSync(path.join(g.dir, 'db'))) haystacks.push([`db/${f}`, fs.readFileSync(path.join(g.dir, 'db', f), 'latin1')]);
  haystacks.push(['keystore.json', fs.readFileSync(path.join(g.dir, 'keystore.json'), 'latin1')]);
  const found = [];
  for (const s of secrets) {
    const dec = spawnSync(h.WALLET, ['address'], { input: s + '\n', encoding: 'utf8' });
    void dec;
    for (const [name, text] of haystacks) if (text.includes(s)) found.push(`${s.slice(0, 4)}… in ${name}`);
  }
  h.ok(found.length === 0, 'no secret in any response, log line, audit line, store file or the keystore file', found);
  stopCloser();
});
