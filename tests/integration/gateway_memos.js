// gateway_memos.js — encrypted memos through jt-gateway's real HTTP API
// against a real jt-node: two held accounts (secp256k1 and ed25519) publish
// their encryption keys, pay each other with sealed memos; the node's data
// files never hold the plaintext (a plain memo sent beside them is found
// there, so the scan can see); both parties' histories and GET transaction
// show the memos opened, other API keys see them sealed; /v2/events
// subscribers (live and replayed) see them opened by the same rule, and a
// webhook receiver (the operator's, signed, retried) sees them opened,
// while the store keeps them sealed; a memo sealed to a key the gateway
// does not hold stays sealed everywhere; a destination without a
// MessageKey is refused with nothing signed; a repeated client_id is the
// same transaction; and after a restart the keys derived again still open
// what was sealed before.
'use strict';
const crypto = require('crypto');
const fs = require('fs');
const path = require('path');

const build = process.argv[2];
const h = require('./harness')('memos', 'jt-gw-memo-', build);
const g = require('./gw_harness')(h, build);

const G = h.GENESIS;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const swt = (v) => ({ value: String(v), currency: 'SWT' });
const until = h.until;
// One memo, opened: its parts and "encrypted", not "sealed".
const opened = (m, data, type, format) => Array.isArray(m) && m.length === 1 && m[0].encrypted === true && m[0].sealed === undefined &&
  m[0].data === data && m[0].type === type && m[0].format === format;
// One memo the reader may not or cannot open.
const sealed = (m) => Array.isArray(m) && m.length === 1 && m[0].encrypted === true && m[0].sealed === true && m[0].data === undefined;

// Every file under dir (but skip), recursively.
function files(dir, skip) {
  const out = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (p === skip) continue;
    if (e.isDirectory()) out.push(...files(p, skip));
    else if (e.isFile()) out.push(p);
  }
  return out;
}
// The files among `list` that hold `text` as bytes or as hex (either case).
function holders(list, text) {
  const raw = Buffer.from(text);
  const hex = [Buffer.from(raw.toString('hex').toUpperCase()), Buffer.from(raw.toString('hex'))];
  return list.filter((f) => {
    const b = fs.readFileSync(f);
    return b.includes(raw) || hex.some((x) => b.includes(x));
  });
}

h.run(async () => {
  if (!h.init()) return;
  const nodePort = await h.startNode();
  h.c = h.client(nodePort);
  await h.c.ready;
  if (!g.init(`ws://127.0.0.1:${nodePort}`)) return;
  g.set('webhooks', 'backoff_ms', '200');
  g.set('webhooks', 'backoff_max_s', '2');
  // Room for one key at a time: every switch between the parties (signing
  // and memo keys alike) wipes one key and derives another, and every
  // memo below must still be sealed and opened right.
  g.set('keystore', 'keys_loaded', '1');
  const admin = g.apikey('admin', '*');
  const stranger = g.apikey('read'); // may read, may act for no account
  await g.start();
  let stopCloser = g.closer(150);

  let r = await g.api('POST', '/v2/wallet/import', { key: admin, body: { secret: G.secret, label: 'genesis' } });
  h.eq(r.status, 201, 'genesis imported');
  r = await g.api('POST', '/v2/wallet/new', { key: admin, body: { label: 'alice' } });
  const A = r.body.wallet && r.body.wallet.address;
  r = await g.api('POST', '/v2/wallet/new', { key: admin, body: { key_type: 'ed25519', label: 'bob' } });
  const B = r.body.wallet && r.body.wallet.address;
  h.ok(A && B, 'two held accounts: secp256k1 and ed25519', { A, B });
  const C = h.keygen(); // funded, not held, no MessageKey
  const D = h.keygen(); // not even in the ledger
  const keyA = g.apikey('read,sign,issue', A);
  const keyB = g.apikey('read,sign,issue', B);
  const pay = (from, key, cid, payment, q) => g.api('POST', `/v2/accounts/${from}/payments${q || ''}`, { key, body: { client_id: cid, payment } });
  for (const [who, cid] of [[A, 'fund-a'], [B, 'fund-b'], [C.address, 'fund-c']]) {
    r = await pay(G.address, admin, cid, { destination: who, amount: swt(1000) }, '?wait=validated');
    h.ok(r.status === 200 && r.body.status === 'validated', `funded ${cid}`, r.body);
  }

  // ---- publishing the keys
  const publish = (who, key, cid) => g.api('POST', `/v2/accounts/${who}/settings?wait=validated`, { key, body: { client_id: cid, settings: { message_key: 'publish' } } });
  const messageKey = async (who) => (await g.api('GET', `/v2/accounts/${who}/info`, { key: admin })).body.account_data.MessageKey;
  r = await publish(A, keyA, 'mk-a');
  h.ok(r.status === 200 && r.body.status === 'validated' && r.body.result === 'tesSUCCESS' && r.body.type === 'AccountSet',
       'settings message_key "publish" (secp256k1 account): validated', r.body);
  r = await publish(B, keyB, 'mk-b');
  h.ok(r.status === 200 && r.body.result === 'tesSUCCESS', 'settings message_key "publish" (ed25519 account): validated', r.body);
  const mkA = await messageKey(A), mkB = await messageKey(B);
  h.ok(/^EC[0-9A-F]{64}$/.test(mkA) && /^EC[0-9A-F]{64}$/.test(mkB) && mkA !== mkB,
       'MessageKey on the ledger: EC ‖ 32-byte X25519 key, one per account', { mkA, mkB });
  r = await publish(A, keyA, 'mk-a-again');
  h.ok(r.status === 200 && r.body.result === 'tesSUCCESS' && (await messageKey(A)) === mkA,
       'publishing again gives the same key (derived, not random)', r.body);

  // ---- an account the gateway does not hold, with an encryption key of its own
  const E = h.keygen();
  r = await pay(G.address, admin, 'fund-e', { destination: E.address, amount: swt(1000) }, '?wait=validated');
  h.ok(r.status === 200 && r.body.status === 'validated', 'funded fund-e', r.body);
  const ePub = Buffer.from(crypto.generateKeyPairSync('x25519').publicKey.export({ format: 'jwk' }).x, 'base64url');
  const mkE = 'EC' + ePub.toString('hex').toUpperCase();
  await h.submit(E, { TransactionType: 'AccountSet', MessageKey: mkE });
  const nodeMessageKey = async (who) => {
    const x = await h.c.request({ command: 'account_info', account: who, ledger_index: 'validated' });
    return x.result && x.result.account_data && x.result.account_data.MessageKey;
  };
  h.ok(await until(async () => (await nodeMessageKey(E.address)) === mkE, 10000),
       'an account the gateway does not hold publishes an X25519 key made elsewhere', mkE);

  // ---- listening before the sealed payments: /v2/events with each kind
  // of key, and a webhook whose receiver refuses each event's first attempt
  const tried = new Set();
  const rx = g.receiver((x) => (tried.has(x.body.id) ? 200 : (tried.add(x.body.id), 503)));
  await rx.ready;
  r = await g.api('POST', '/v2/webhooks', { key: admin, body: { url: rx.url(), accounts: [A, B, E.address] } });
  const hook = r.body.webhook;
  h.ok(r.status === 201 && hook && hook.secret, 'a webhook for both held accounts and one not held', r.body);
  const listen = async (who, key, sub) => {
    const c = g.events();
    await c.ready;
    const a = await c.cmd({ command: 'auth', key });
    const m = await c.cmd(Object.assign({ command: 'subscribe' }, sub));
    h.ok(a && a.success === true && m && m.success === true, `/v2/events: ${who} subscribed to ${sub.type === 'account' ? sub.account : sub.type}${sub.since_ledger ? ' since a ledger' : ''}`, [a, m]);
    return c;
  };
  const wsA = await listen('the sender\'s key', keyA, { type: 'transactions' });
  const wsB = await listen('the recipient\'s key', keyB, { type: 'account', account: B });
  const wsS = await listen('a key for neither', stranger, { type: 'account', account: B });
  const wsE = await listen('the admin key', admin, { type: 'account', account: E.address });

  // ---- a plain memo (the scan's control) and a sealed one
  const tag = crypto.randomBytes(6).toString('hex');
  const PLAIN = `plain-control-${tag}`;
  const SECRET = `sealed-invoice-${tag} 井通`;
  const SECRET2 = `sealed-reply-${tag}`;
  r = await pay(A, keyA, 'plain-1', { destination: B, amount: swt(1), memos: [{ data: PLAIN }] }, '?wait=validated');
  h.ok(r.status === 200 && r.body.status === 'validated', 'a payment with a plain memo', r.body);
  const encBody = { destination: B, amount: swt(2), memos: [{ type: 'invoice', format: 'text/plain', data: SECRET }], encrypt_memos: true };
  r = await pay(A, keyA, 'enc-1', encBody, '?wait=validated');
  const encHash = r.body.hash;
  h.ok(r.status === 200 && r.body.status === 'validated' && r.body.result === 'tesSUCCESS' && /^[0-9A-F]{64}$/.test(encHash),
       'encrypt_memos: true, secp256k1 → ed25519: validated', r.body);
  r = await pay(B, keyB, 'enc-back', { destination: A, amount: swt(1), memos: [{ data: SECRET2 }], encrypt_memos: true }, '?wait=validated');
  const backHash = r.body.hash;
  h.ok(r.status === 200 && r.body.result === 'tesSUCCESS', 'encrypt_memos: true, ed25519 → secp256k1: validated', r.body);
  const SECRET3 = `sealed-to-outsider-${tag}`;
  r = await pay(A, keyA, 'enc-e', { destination: E.address, amount: swt(1), memos: [{ data: SECRET3 }], encrypt_memos: true }, '?wait=validated');
  const toEHash = r.body.hash;
  h.ok(r.status === 200 && r.body.result === 'tesSUCCESS', 'encrypt_memos: true, to an account the gateway does not hold: validated', r.body);
  // Its recipient's copy, sealed to E's key alone, in a payment between
  // two accounts the gateway does not hold: no key of the gateway's opens it.
  r = await g.api('GET', `/v2/transactions/${toEHash}`, { key: stranger });
  const toE = ((r.body.transaction || {}).Memos || [])[0];
  h.ok(toE && toE.Memo.MemoData.slice(4, 68).toUpperCase() === mkE.slice(2), 'the recipient\'s copy is sealed to the outsider\'s own key', toE);
  const outHash = (await h.submit(C, { TransactionType: 'Payment', Destination: E.address, Amount: '1000000', Memos: [toE] })).hash;

  // ---- what the ledger holds: two sealed copies, nothing in the clear
  r = await g.api('GET', `/v2/transactions/${encHash}`, { key: stranger });
  const raw = r.body.transaction || {};
  const sealedType = Buffer.from('jt/sealed').toString('hex').toUpperCase();
  const ms = (raw.Memos || []).map((m) => m.Memo);
  h.ok(ms.length === 2 && ms.every((m) => m.MemoType.toUpperCase() === sealedType && /^01/.test(m.MemoData)) &&
       ms[0].MemoData.slice(2, 4) === '00' && ms[1].MemoData.slice(2, 4) === '01' &&
       ms[0].MemoData.slice(4, 68).toUpperCase() === mkB.slice(2) && ms[1].MemoData.slice(4, 68).toUpperCase() === mkA.slice(2),
       'the transaction carries two jt/sealed memos: v1, to the recipient\'s key, then to the sender\'s', ms);
  h.ok(r.status === 200 && Array.isArray(r.body.memos) && r.body.memos.length === 1 && r.body.memos[0].sealed === true &&
       r.body.memos[0].encrypted === true && r.body.memos[0].data === undefined && !JSON.stringify(r.body).includes(SECRET),
       'an API key that may act for neither party sees the memo sealed', r.body.memos);

  // ---- events: the same memos, opened by history's rule
  const evOf = (c, hash) => c.wait((x) => (x.event === 'account' || x.event === 'transaction') && x.hash === hash, 15000);
  const evB = await evOf(wsB, encHash);
  r = await g.api('GET', `/v2/accounts/${B}/payments?limit=10`, { key: keyB });
  const histB = (r.body.payments || []).find((p) => p.hash === encHash);
  h.ok(evB && evB.account === B && opened(evB.memos, SECRET, 'invoice', 'text/plain') && histB &&
       JSON.stringify(evB.memos) === JSON.stringify(histB.memos),
       '/v2/events, the recipient\'s key: the memo opened, as its history shows it', { ev: evB && evB.memos, hist: histB && histB.memos });
  const evPlain = await evOf(wsB, (await g.api('GET', `/v2/accounts/${A}/payments/plain-1`, { key: keyA })).body.hash);
  h.ok(evPlain && Array.isArray(evPlain.memos) && evPlain.memos.length === 1 && evPlain.memos[0].data === PLAIN &&
       evPlain.memos[0].encrypted === undefined, '/v2/events: a plain memo as text, not marked encrypted', evPlain && evPlain.memos);
  const evS = await evOf(wsS, encHash);
  h.ok(evS && sealed(evS.memos) && !JSON.stringify(evS).includes(SECRET) && evS.id === evB.id,
       '/v2/events, a key for neither party: the same event, its memo sealed', evS && evS.memos);
  const [tA1, tA2, tA3, tA4] = await Promise.all([encHash, backHash, toEHash, outHash].map((x) => evOf(wsA, x)));
  h.ok(tA1 && tA1.event === 'transaction' && opened(tA1.memos, SECRET, 'invoice', 'text/plain') &&
       tA2 && opened(tA2.memos, SECRET2, undefined, undefined) && tA3 && opened(tA3.memos, SECRET3, undefined, undefined),
       '/v2/events transactions stream, the sender\'s key: opened as sender (both key types) and as recipient',
       [tA1, tA2, tA3].map((x) => x && x.memos));
  h.ok(tA4 && sealed(tA4.memos) && !JSON.stringify(tA4).includes(SECRET3),
       '... and a memo sealed to a key the gateway does not hold: sealed', tA4 && tA4.memos);
  const [eTo, eOut] = await Promise.all([toEHash, outHash].map((x) => evOf(wsE, x)));
  h.ok(eTo && opened(eTo.memos, SECRET3, undefined, undefined) && eOut && sealed(eOut.memos) && !JSON.stringify(eOut).includes(SECRET3),
       '/v2/events, an admin key on the outsider\'s account: opened from the held sender\'s copy; sealed where no copy is for a held key',
       [eTo && eTo.memos, eOut && eOut.memos]);
  const wsR = await listen('the recipient\'s key', keyB, { type: 'account', account: B, since_ledger: evB.ledger_index });
  await wsR.wait((x) => x.event === 'replay_done', 15000);
  const evR = wsR.events((x) => x.hash === encHash)[0];
  h.ok(evR && opened(evR.memos, SECRET, 'invoice', 'text/plain') && JSON.stringify(evR) === JSON.stringify(evB),
       '/v2/events replay (since_ledger): the same event as live, memo opened', evR && evR.memos);

  // ---- the webhook: opened for the operator, signed over what was sent,
  // the same bytes on each attempt
  const want = {
    [`${tA1.ledger_index}:${tA1.tx_index}:${A}`]: SECRET, [`${tA1.ledger_index}:${tA1.tx_index}:${B}`]: SECRET,
    [`${tA2.ledger_index}:${tA2.tx_index}:${A}`]: SECRET2, [`${tA3.ledger_index}:${tA3.tx_index}:${E.address}`]: SECRET3,
    [`${tA4.ledger_index}:${tA4.tx_index}:${E.address}`]: null,
  };
  const acked = (id) => rx.reqs.some((x) => x.body.id === id && x.status === 200);
  h.ok(await until(() => Object.keys(want).every(acked), 20000), 'webhook: every event acknowledged after a refused first attempt',
       rx.reqs.map((x) => [x.body.id, x.status]));
  const bad = [];
  for (const [id, secret] of Object.entries(want)) {
    const tries = rx.reqs.filter((x) => x.body.id === id);
    const last = tries[tries.length - 1];
    const ok = tries.length >= 2 && tries[0].status === 503 && tries.every((x) => x.raw.equals(tries[0].raw)) &&
      (secret ? opened(last.body.memos, secret, id.startsWith(`${tA1.ledger_index}:${tA1.tx_index}:`) ? 'invoice' : undefined,
        id.startsWith(`${tA1.ledger_index}:${tA1.tx_index}:`) ? 'text/plain' : undefined)
        : sealed(last.body.memos) && !last.raw.includes(SECRET3));
    if (!ok) bad.push({ id, n: tries.length, memos: last && last.body.memos });
  }
  h.ok(bad.length === 0, 'webhook: memos opened for held parties, sealed for the outsider\'s key, the same on each attempt', bad);
  h.ok(rx.reqs.length > 0 && rx.reqs.every((x) => x.headers['x-jt-signature'] === g.hmac(hook.secret, x.raw)),
       'webhook: each attempt signed over the body as sent (memos opened)');
  r = await g.api('DELETE', `/v2/webhooks/${hook.id}`, { key: admin });
  h.eq(r.status, 200, 'webhook deleted');
  for (const c of [wsA, wsB, wsS, wsE, wsR]) await c.close();
  await rx.close();

  stopCloser();
  for (let i = 0; i < 3; i++) await h.accept();
  await sleep(500);
  const nodeFiles = files(h.dir, g.dir);
  h.ok(nodeFiles.length > 0 && holders(nodeFiles, PLAIN).length > 0,
       'the scan sees memos: the plain memo is in the node\'s data files', nodeFiles.map((f) => path.relative(h.dir, f)));
  const secrets = [SECRET, SECRET2, SECRET3];
  h.ok(secrets.every((x) => holders(nodeFiles, x).length === 0),
       'the sealed memos\' plaintext is in none of the node\'s data files', secrets.map((x) => holders(nodeFiles, x)));
  const gwFiles = files(g.dir, null);
  h.ok(secrets.every((x) => holders(gwFiles, x).length === 0),
       '... nor in the gateway\'s store (webhook deliveries retried included), audit log or keystore', secrets.map((x) => holders(gwFiles, x)));
  stopCloser = g.closer(150);

  // ---- reading: both parties see the memos opened
  r = await g.api('GET', `/v2/accounts/${B}/payments?limit=10`, { key: keyB });
  let e = (r.body.payments || []).find((p) => p.hash === encHash);
  h.ok(r.status === 200 && e && e.type === 'received' && opened(e.memos, SECRET, 'invoice', 'text/plain'),
       'recipient\'s payment history: the memo opened (type, format, data)', e);
  const plainEntry = (r.body.payments || []).find((p) => p.memos && p.memos[0] && p.memos[0].data === PLAIN);
  h.ok(plainEntry && plainEntry.memos[0].encrypted === undefined, '... and the plain memo as text, not marked encrypted', plainEntry && plainEntry.memos);
  r = await g.api('GET', `/v2/accounts/${A}/transactions?limit=20`, { key: keyA });
  e = (r.body.transactions || []).find((p) => p.hash === encHash);
  h.ok(r.status === 200 && e && e.type === 'sent' && opened(e.memos, SECRET, 'invoice', 'text/plain'),
       'sender\'s transaction history: the memo opened from the sender\'s copy', e);
  e = (r.body.transactions || []).find((p) => p.hash === backHash);
  h.ok(e && e.type === 'received' && opened(e.memos, SECRET2, undefined, undefined),
       'the ed25519 account\'s memo opened by the secp256k1 recipient', e);
  r = await g.api('GET', `/v2/accounts/${B}/transactions?limit=20`, { key: keyB });
  e = (r.body.transactions || []).find((p) => p.hash === backHash);
  h.ok(e && e.type === 'sent' && opened(e.memos, SECRET2, undefined, undefined), '... and by its ed25519 sender', e);
  r = await g.api('GET', `/v2/transactions/${encHash}`, { key: keyB });
  h.ok(r.status === 200 && opened(r.body.memos, SECRET, 'invoice', 'text/plain'), 'GET /v2/transactions/{hash}: opened for the recipient\'s key', r.body.memos);
  r = await g.api('GET', `/v2/accounts/${A}/payments/enc-1`, { key: keyA });
  h.ok(r.status === 200 && r.body.hash === encHash && opened(r.body.memos, SECRET, 'invoice', 'text/plain'),
       'GET payment by client_id: opened for the sender\'s key', r.body.memos);
  r = await g.api('GET', `/v2/accounts/${B}/payments?limit=10`, { key: stranger });
  e = (r.body.payments || []).find((p) => p.hash === encHash);
  h.ok(e && e.memos && e.memos[0].sealed === true && !JSON.stringify(r.body).includes(SECRET),
       'history through a key for neither party: sealed', e && e.memos);

  // ---- refusals: nothing signed
  const auditLines = () => fs.readFileSync(path.join(g.dir, 'audit.log'), 'utf8').split('\n').filter(Boolean).length;
  const n0 = auditLines();
  r = await pay(A, keyA, 'enc-c', { destination: C.address, amount: swt(1), memos: [{ data: 'x' }], encrypt_memos: true }, '?wait=validated');
  h.ok(r.status === 422 && r.body.error === 'noMessageKey' && r.body.field === 'payment.destination' && /no MessageKey/.test(r.body.message),
       '422 noMessageKey: a destination that published no key', r.body);
  r = await pay(A, keyA, 'enc-d', { destination: D.address, amount: swt(100), memos: [{ data: 'x' }], encrypt_memos: true });
  h.ok(r.status === 422 && r.body.error === 'noMessageKey', '422 noMessageKey: a destination not in the ledger', r.body);
  r = await pay(A, keyA, 'enc-bad', { destination: B, amount: swt(1), memos: [{ data: 'x' }], encrypt_memos: 'yes' });
  h.ok(r.status === 400 && r.body.field === 'payment.encrypt_memos', '400: encrypt_memos must be a boolean', r.body);
  r = await pay(A, keyA, 'enc-big', { destination: B, amount: swt(1), memos: Array.from({ length: 8 }, () => ({ data: 'y'.repeat(1000) })), encrypt_memos: true });
  h.ok(r.status === 400 && r.body.field === 'payment.memos' && /too long to seal/.test(r.body.message), '400: memos too long once sealed twice', r.body);
  h.eq(auditLines(), n0, '... and nothing was signed (no audit line)');
  r = await g.api('GET', `/v2/accounts/${A}/payments/enc-c`, { key: keyA });
  h.eq(r.status, 404, '... nor recorded under its client_id');
  r = await pay(A, keyA, 'enc-c', { destination: C.address, amount: swt(1), memos: [{ data: 'x' }], encrypt_memos: false }, '?wait=validated');
  h.ok(r.status === 200 && r.body.status === 'validated', 'the same client_id can then be used (plain, by choice)', r.body);

  // ---- idempotency: the first signed transaction is the answer
  r = await pay(A, keyA, 'enc-1', encBody);
  h.ok(r.status === 200 && r.body.hash === encHash && r.body.status === 'validated', 'a repeat of a sealed payment: the same transaction', r.body);
  r = await pay(A, keyA, 'enc-1', Object.assign({}, encBody, { memos: [{ data: 'other' }] }));
  h.ok(r.status === 409 && r.body.error === 'clientIdReused', '409: the client_id with another body', r.body);
  const n1 = auditLines();
  const body2 = { destination: B, amount: swt(3), memos: [{ data: `concurrent-${tag}` }], encrypt_memos: true };
  const same = await Promise.all(Array.from({ length: 10 }, () => pay(A, keyA, 'enc-2', body2, '?wait=validated')));
  const hashes = new Set(same.map((x) => x.body.hash));
  h.ok(same.every((x) => x.status === 200 && x.body.status === 'validated') && hashes.size === 1,
       '10 concurrent identical sealed payments: one transaction', same.map((x) => [x.status, x.body.hash, x.body.error]).slice(0, 4));
  h.eq(auditLines(), n1 + 1, '... signed once (one audit line)');

  // ---- restart: keys derived again open what was sealed before
  stopCloser();
  await g.stop();
  await g.start();
  stopCloser = g.closer(150);
  h.ok(await g.waitHealthy(20000), 'restart: healthy');
  r = await g.api('GET', `/v2/transactions/${encHash}`, { key: keyA });
  h.ok(r.status === 200 && opened(r.body.memos, SECRET, 'invoice', 'text/plain'), 'after a restart: still opened', r.body.memos);
  r = await pay(A, keyA, 'enc-1', encBody);
  h.ok(r.status === 200 && r.body.hash === encHash, 'after a restart: a repeat is still the same transaction', r.body);
  r = await g.api('GET', `/v2/transactions/${encHash}`, { key: admin });
  r = await g.api('GET', '/metrics', { key: admin });
  const loaded = (name) => { const x = new RegExp(`^${name} (\\d+)$`, 'm').exec(r.body); return x ? +x[1] : NaN; };
  h.ok(loaded('jt_gateway_memo_keys_loaded') === 1 && loaded('jt_gateway_keys_loaded') <= 1,
       'with keys_loaded = 1, one memo key and at most one signing key are kept', r.body.split('\n').filter((l) => /keys_loaded/.test(l)));

  stopCloser();
  const end = await g.stop();
  h.ok(end && end.code === 0 && !g.logs.some((l) => /Sanitizer|runtime error/.test(l)),
       'the gateway stops cleanly (no sanitizer report)', { end, tail: g.logs.slice(-6) });
});
