// gw_diskfull.js BUILD — the body of test_gateway_diskfull.sh: jt-gateway
// whose data directory (GW_SMALL_DIR, a small tmpfs) fills up while it runs.
//
//   1. a funded account pays once (the store and the audit log have room);
//   2. a file takes every byte left on the disk: payments answer 503,
//      storeUnavailable, naming the full disk; nothing reaches the node (its
//      sequence for the account stands); a request that waits is not left
//      hanging; the audit log holds only whole lines;
//   3. the file is removed: the same client_ids go through, each once;
//   4. stopped, `jt-gateway audit verify` passes.
'use strict';
const fs = require('fs');
const path = require('path');

const build = process.argv[2];
const small = process.env.GW_SMALL_DIR;
const h = require('./harness')('gw-diskfull', 'jt-gw-full-', build);
const g = require('./gw_harness')(h, build);
const G = h.GENESIS;

h.run(async () => {
  if (!h.ok(small && fs.existsSync(small), 'GW_SMALL_DIR names the small disk', small)) return;
  g.dir = path.join(small, 'gw');
  if (!h.init()) return;
  const L = await h.startNode();
  h.c = h.client(L);
  await h.c.ready;
  if (!g.init(`ws://127.0.0.1:${L}`)) return;
  const admin = g.apikey('admin', '*');
  await g.start();
  const stopCloser = g.closer(150);
  h.ok(await g.waitHealthy(20000), 'the gateway runs with its data on the small disk');

  let r = await g.api('POST', '/v2/wallet/import', { key: admin, body: { secret: G.secret } });
  r = await g.api('POST', '/v2/wallet/new', { key: admin, body: {} });
  const A = r.body.wallet.address;
  r = await g.api('POST', `/v2/accounts/${G.address}/payments?wait=validated`,
    { key: admin, body: { client_id: 'fund', payment: { destination: A, amount: { value: '1000', currency: 'SWT' } } } });
  h.ok(r.status === 200 && r.body.status === 'validated', 'A funded', r.body);
  const pay = (cid, tag, wait) => g.api('POST', `/v2/accounts/${A}/payments${wait ? '?wait=validated' : ''}`,
    { key: admin, body: { client_id: cid, payment: { destination: G.address, amount: { value: '1', currency: 'SWT' }, destination_tag: tag } } });
  r = await pay('p-0', 100, true);
  h.ok(r.status === 200 && r.body.status === 'validated', '1. a payment with room on the disk', r.body);
  const nodeSeq = async () => (await h.c.request({ command: 'account_info', account: A, ledger_index: 'current' })).result.account_data.Sequence;
  const seq0 = await nodeSeq();
  const auditFile = path.join(g.dir, 'audit.log');
  const auditText = () => fs.readFileSync(auditFile, 'utf8');
  const lines0 = auditText().split('\n').filter(Boolean).length;

  // ---- 2. the disk fills up
  const filler = path.join(small, 'filler');
  const fd = fs.openSync(filler, 'w');
  const chunk = Buffer.alloc(64 * 1024, 0x55);
  let filled = 0;
  for (;;) {
    try { filled += fs.writeSync(fd, chunk); } catch (e) {
      if (e.code !== 'ENOSPC') throw e;
      break;
    }
  }
  for (let n = 4096; n >= 1; n = Math.floor(n / 2)) {
    for (;;) { try { fs.writeSync(fd, chunk, 0, n); } catch (e) { break; } }
  }
  fs.closeSync(fd);
  h.ok(filled > 0, `the disk is full (${filled} bytes of filler)`);
  // What still fits in the last pages of the files (slack, free pages
  // inside the store) may go through; everything else is refused whole.
  const N = 40;
  const first = [];
  for (let i = 1; i <= N; i++) first.push(await pay(`p-${i}`, 100 + i, i === N));
  const took = first.filter((x) => x.status === 200 || x.status === 202);
  const refused = first.filter((x) => x.status !== 200 && x.status !== 202);
  h.ok(refused.length >= 3 && first.slice(-3).every((x) => refused.includes(x)), `2. the disk full: ${refused.length} of ${N} payments refused (the last ones)`, first.map((x) => x.status));
  h.ok(refused.every((x) => x.status === 503 && x.body.error === 'storeUnavailable' && x.body.error_type === 'network' &&
       /disk full/.test(x.body.message) && /not sent/.test(x.body.message)),
       '... each 503 storeUnavailable, naming the full disk and saying nothing was sent (the one that waits too)', refused.map((x) => x.body));
  await new Promise((res) => setTimeout(res, 600));
  h.eq(await nodeSeq(), seq0 + took.length, '... only the accepted ones reached the node');
  const text = auditText();
  h.ok(text.endsWith('\n') && text.split('\n').filter(Boolean).every((l) => { try { JSON.parse(l); return true; } catch (e) { return false; } }),
       '... the audit log holds only whole lines', text.slice(-300));
  const missing = [];
  for (let i = 1; i <= N; i++) {
    if (first[i - 1].status !== 503) continue;
    r = await g.api('GET', `/v2/accounts/${A}/payments/p-${i}`, { key: admin });
    if (r.status !== 404) missing.push([i, r.status]);
  }
  h.eq(missing.length, 0, '... and no record of a refused payment');
  r = await g.api('GET', '/v2/health');
  h.ok(r.status === 200 || r.status === 503, 'health still answers', r.status);
  // A key the keystore file cannot hold is not added: a restart would lose
  // it, and with it whatever was sent to its address.
  const walletsBefore = (await g.api('GET', '/v2/wallets', { key: admin })).body.wallets.map((x) => x.address).sort();
  const made = [];
  for (let i = 0; i < 3; i++) made.push(await g.api('POST', '/v2/wallet/new', { key: admin, body: { label: `full-${i}` } }));
  h.ok(made.every((x) => x.status === 503 && x.body.error === 'storeUnavailable' && /not added/.test(x.body.message) &&
                    /No space left|disk full/i.test(x.body.message) && !x.body.wallet),
       '... wallet/new answers 503 storeUnavailable, naming the full disk, and returns no wallet', made.map((x) => x.body));
  const walletsFull = (await g.api('GET', '/v2/wallets', { key: admin })).body.wallets.map((x) => x.address).sort();
  h.eq(JSON.stringify(walletsFull), JSON.stringify(walletsBefore), '... and the gateway holds no key it could not write');

  // ---- 3. room again
  fs.unlinkSync(filler);
  const again = [];
  for (let i = 1; i <= N; i++) again.push(await pay(`p-${i}`, 100 + i, true));
  h.ok(again.every((x) => x.status === 200 && x.body.status === 'validated'),
       '3. with room again every client_id is validated', again.map((x) => [x.status, x.body.status, x.body.error]));
  h.ok(took.every((x) => again.some((y) => y.body.hash === x.body.hash)), '... the accepted ones as the same transactions');
  h.eq(await nodeSeq(), seq0 + N, '... each exactly once on the node');
  r = await pay('p-3', 103, false);
  h.ok(r.status === 200 && r.body.hash === again[2].body.hash, '... and a repeat is the same transaction', r.body);
  const lines1 = auditText().split('\n').filter(Boolean).length;
  h.ok(lines1 >= lines0 + N, 'the audit log has the new signatures', { lines0, lines1 });

  r = await g.api('POST', '/v2/wallet/new', { key: admin, body: { label: 'room-again' } });
  const D = r.body.wallet && r.body.wallet.address;
  h.ok(r.status === 201 && D, '... and wallet/new works again', r.body);

  // ---- 4. the audit chain is whole
  stopCloser();
  await g.stop();
  const listed = g.cli(['key', 'list']);
  h.ok(listed.status === 0 && listed.stdout.includes(D) && !/full-\d/.test(listed.stdout),
       'the keystore file has the key made with room, none of the refused ones', listed.stdout + listed.stderr);
  const v = g.cli(['audit', 'verify']);
  h.ok(v.status === 0, '4. jt-gateway audit verify passes', v.stdout + v.stderr);
  h.eq(g.logs.filter((l) => /AddressSanitizer|runtime error/.test(l)).length, 0, 'no sanitizer report');
});
