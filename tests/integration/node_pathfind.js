// node_pathfind.js BUILD — integration tests of jt-node's path finding over WebSocket:
// skywell_path_find, path_find create / status / close, the updates pushed
// to the requester as ledgers close (with the create's id), one request per
// connection (a new create replaces it), the cap on open requests across
// connections, and the errors for bad requests. Starts a real jt-node on
// loopback and prints "ok NAME" / "not ok NAME - detail" lines.
'use strict';
const path = require('path');
const h = require(path.join(__dirname, 'harness.js'))('path', 'jt-node-path-', process.argv[2]);
const { ok, eq, keygen, client, submit, accept, GENESIS, RESERVE_BASE, RESERVE_INC } = h;
const MAX_PATHS = 2; // set small below, to reach it
let c; // the main client (h.c, which submit() uses)
const cny = (I, v) => ({ currency: 'CNY', issuer: I.address, value: String(v) });
const swt = (v) => String(Math.round(v * 1e6));
const sleep = (ms) => new Promise((res) => setTimeout(res, ms));
async function waitPush(cl, pred, ms) {
  for (let t = 0; t < (ms || 5000); t += 20) {
    const i = cl.pushed.findIndex(pred);
    if (i >= 0) return cl.pushed.splice(i, 1)[0];
    await sleep(20);
  }
  return null;
}
const swtAlt = (res) => res && res.alternatives && res.alternatives.find((a) => typeof a.source_amount === 'string');

async function main() {
  if (!h.init(`\n[limits]\nmax_path_requests = ${MAX_PATHS}\n`)) return;
  const port = await h.startNode();
  c = h.c = client(port);
  await c.ready;

  const I = keygen(), M = keygen(), M2 = keygen(), D = keygen(), S = keygen(), X = keygen();
  for (const who of [I, M, M2, D, S])
    await submit(GENESIS, { TransactionType: 'Payment', Destination: who.address, Amount: swt(100000) });
  await accept();
  for (const who of [M, M2, D]) await submit(who, { TransactionType: 'TrustSet', LimitAmount: cny(I, 100000) });
  await accept();
  for (const who of [M, M2]) await submit(I, { TransactionType: 'Payment', Destination: who.address, Amount: cny(I, 1000) });
  await accept();
  await submit(M, { TransactionType: 'OfferCreate', TakerGets: cny(I, 1000), TakerPays: swt(10000) });
  await accept();

  // skywell_path_find: once
  const want = { source_account: S.address, destination_account: D.address, destination_amount: cny(D, 10) };
  let r = await c.request(Object.assign({ command: 'skywell_path_find' }, want));
  let alt = swtAlt(r.result);
  ok(r.status === 'success' && alt && alt.source_amount === swt(100), 'skywell_path_find: 100 SWT for 10 CNY', r);
  ok(alt && alt.paths_computed.length >= 1 && alt.paths_computed[0].some((e) => e.currency === 'CNY' && e.issuer === I.address &&
     e.type === 48 && e.type_hex === '0000000000000030'), 'skywell_path_find: a path through the CNY book', alt);
  ok(r.result && r.result.destination_currencies.includes('CNY') && r.result.destination_currencies.includes('SWT'),
     'skywell_path_find: destination_currencies', r.result);
  eq(r.result && r.result.full_reply, true, 'skywell_path_find: full_reply');

  // path_find create, then an update on each close
  const a = client(port), b = client(port), d = client(port);
  await Promise.all([a.ready, b.ready, d.ready]);
  r = await a.request(Object.assign({ command: 'path_find', subcommand: 'create' }, want));
  alt = swtAlt(r.result);
  ok(r.status === 'success' && alt && alt.source_amount === swt(100), 'path_find create: 100 SWT', r);
  const createId = r.id;
  await submit(M2, { TransactionType: 'OfferCreate', TakerGets: cny(I, 1000), TakerPays: swt(5000) });
  await accept();
  let p = await waitPush(a, (m) => m.type === 'path_find');
  ok(p && p.id === createId, 'path_find: an update pushed on close, with the create\'s id', p);
  alt = swtAlt(p);
  eq(alt && alt.source_amount, swt(50), 'path_find: the update sees the cheaper offer (50 SWT)');
  r = await a.request({ command: 'path_find', subcommand: 'status' });
  eq(swtAlt(r.result) && swtAlt(r.result).source_amount, swt(50), 'path_find status: the last answer');
  ok(c.pushed.every((m) => m.type !== 'path_find'), 'path_find: nothing pushed to other connections', c.pushed);

  // one per connection, a cap across connections
  r = await a.request(Object.assign({ command: 'path_find', subcommand: 'create' }, want));
  eq(r.status, 'success', 'path_find: a second create replaces the first');
  r = await b.request(Object.assign({ command: 'path_find', subcommand: 'create' }, want));
  eq(r.status, 'success', 'path_find: a second connection');
  r = await d.request(Object.assign({ command: 'path_find', subcommand: 'create' }, want));
  eq(r.error, 'tooBusy', 'path_find: the cap on open requests');
  r = await a.request({ command: 'path_find', subcommand: 'close' });
  eq(r.result && r.result.closed, true, 'path_find close');
  r = await a.request({ command: 'path_find', subcommand: 'close' });
  eq(r.error, 'noPathRequest', 'path_find close: none open');
  r = await a.request({ command: 'path_find', subcommand: 'status' });
  eq(r.error, 'noPathRequest', 'path_find status: none open');
  await accept();
  await sleep(300);
  ok(!a.pushed.some((m) => m.type === 'path_find'), 'path_find: no updates after close', a.pushed);
  r = await d.request(Object.assign({ command: 'path_find', subcommand: 'create' }, want));
  eq(r.status, 'success', 'path_find: room again after a close');
  await b.close();
  r = await a.request(Object.assign({ command: 'path_find', subcommand: 'create' }, want));
  eq(r.status, 'success', 'path_find: room again when a connection goes');

  // bad requests
  r = await c.request({ command: 'skywell_path_find', destination_account: D.address, destination_amount: cny(D, 1) });
  eq(r.error, 'srcActMissing', 'skywell_path_find: no source_account');
  r = await c.request({ command: 'skywell_path_find', source_account: 'jxxx', destination_account: D.address, destination_amount: cny(D, 1) });
  eq(r.error, 'srcActMalformed', 'skywell_path_find: a malformed source_account');
  r = await c.request({ command: 'skywell_path_find', source_account: X.address, destination_account: D.address, destination_amount: cny(D, 1) });
  eq(r.error, 'srcActNotFound', 'skywell_path_find: an unknown sender');
  r = await c.request({ command: 'skywell_path_find', source_account: S.address, destination_account: X.address, destination_amount: cny(D, 1) });
  eq(r.error, 'actNotFound', 'skywell_path_find: CNY to an account that does not exist');
  r = await c.request({ command: 'skywell_path_find', source_account: S.address, destination_account: D.address, destination_amount: { currency: 'CNY', value: '1' } });
  eq(r.error, 'dstAmtMalformed', 'skywell_path_find: an amount without issuer');
  r = await c.request({ command: 'path_find', subcommand: 'bogus' });
  eq(r.error, 'invalidParams', 'path_find: an unknown subcommand');
  r = await c.request(Object.assign({ command: 'skywell_path_find', source_currencies: [{ currency: 'CNY' }] }, want));
  eq(r.result && r.result.alternatives.length, 0, 'skywell_path_find: source_currencies (CNY, which S lacks)');

  for (const cl of [a, d]) await cl.close();
  await h.stopNode();
}

h.run(main);
