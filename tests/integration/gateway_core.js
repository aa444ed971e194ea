// gateway_core.js — a core dump of a running jt-gateway that has signed
// with its keys holds none of them: gcore, then the core is searched for
// every secret (base58), seed (raw bytes, hex) and private key (raw bytes,
// hex) of the keys the gateway holds — made by it, imported through the API
// and imported on the command line. Run against a release build (a
// sanitizer build's core maps terabytes of shadow memory).
'use strict';
const crypto = require('crypto');
const fs = require('fs');
const path = require('path');
const { spawnSync } = require('child_process');

const build = process.argv[2];
const h = require('./harness')('gateway-core', 'jt-gw-core-', build);
const g = require('./gw_harness')(h, build);

const ALPHABET = 'jpshnaf39wBUDNEGHJKLM4PQRST7VWXYZ2bcdeCg65rkm8oFqi1tuvAxyz';
function b58decode(s) {
  let n = 0n;
  for (const ch of s) {
    const i = ALPHABET.indexOf(ch);
    if (i < 0) throw new Error('not base58: ' + s);
    n = n * 58n + BigInt(i);
  }
  let hex = n.toString(16);
  if (hex.length % 2) hex = '0' + hex;
  return Buffer.from(hex, 'hex');
}
// The representations of one secret that must not be in the core.
function needles(secret) {
  const raw = b58decode(secret);
  const ed = secret.startsWith('sEd');
  const seed = raw.slice(ed ? 3 : 1, raw.length - 4);
  const out = [['secret', Buffer.from(secret)], ['seed', seed],
    ['seed hex', Buffer.from(seed.toString('hex').toUpperCase())], ['seed hex lc', Buffer.from(seed.toString('hex'))]];
  let priv;
  if (ed) priv = crypto.createHash('sha512').update(seed).digest().slice(0, 32);
  else {
    const jl = require(path.join(__dirname, '../interop/node_modules/jingtum-lib'));
    const saved = console.log; console.log = () => {};
    priv = Buffer.from(new jl.Wallet(secret)._keypairs.privateKey.slice(-64), 'hex');
    console.log = saved;
  }
  out.push(['private key', priv], ['private key hex', Buffer.from(priv.toString('hex').toUpperCase())],
    ['private key hex lc', Buffer.from(priv.toString('hex'))]);
  return out;
}

h.run(async () => {
  if (spawnSync('sh', ['-c', 'command -v gcore'], { encoding: 'utf8' }).status !== 0) {
    console.log('# SKIP gcore not found');
    return;
  }
  if (!h.init()) return;
  const nodePort = await h.startNode();
  h.c = h.client(nodePort);
  await h.c.ready;
  if (!g.init(`ws://127.0.0.1:${nodePort}`)) return;
  const cliKey = h.keygen();
  const imp = g.cli(['key', 'import', '--label', 'cli'], cliKey.secret + '\n');
  h.ok(imp.status === 0, 'key import on the command line', imp.stderr);
  const admin = g.apikey('admin', '*');
  await g.start();
  const stop = g.closer(150);
  const apiKey = h.keygen();
  const accounts = [cliKey.address];
  let r = await g.api('POST', '/v2/wallet/import', { key: admin, body: { secret: apiKey.secret } });
  h.ok(r.status === 201, 'wallet/import through the API', r.body);
  accounts.push(apiKey.address);
  for (const kt of ['secp256k1', 'ed25519']) {
    r = await g.api('POST', '/v2/wallet/new', { key: admin, body: { key_type: kt } });
    h.ok(r.status === 201, `wallet/new ${kt}`, r.body);
    accounts.push(r.body.wallet.address);
  }
  await g.api('POST', '/v2/wallet/import', { key: admin, body: { secret: h.GENESIS.secret } });
  // Fund each, then have each sign: their keys are loaded and used.
  for (const [i, a] of accounts.entries()) {
    r = await g.api('POST', `/v2/accounts/${h.GENESIS.address}/payments?wait=validated`, { key: admin, body: { client_id: `fund-${i}`, payment: { destination: a, amount: { value: '100', currency: 'SWT' } } } });
    h.ok(r.status === 200, `fund ${a.slice(0, 6)}…`, r.body);
  }
  for (const [i, a] of accounts.entries()) {
    r = await g.api('POST', `/v2/accounts/${a}/payments?wait=validated`, { key: admin, body: { client_id: `back-${i}`, payment: { destination: h.GENESIS.address, amount: { value: '1', currency: 'SWT' } } } });
    h.ok(r.status === 200 && r.body.status === 'validated', `${a.slice(0, 6)}… signs`, r.body);
  }
  const core = path.join(h.dir, 'core');
  const gc = spawnSync('gcore', ['-o', core, String(g.proc.pid)], { encoding: 'utf8', timeout: 120000 });
  const file = fs.readdirSync(h.dir).find((f) => f.startsWith('core.'));
  h.ok(gc.status === 0 && file, 'gcore of the running gateway', gc.stderr && gc.stderr.slice(-500));
  stop();
  await g.stop();
  if (!file) return;
  const dump = fs.readFileSync(path.join(h.dir, file));
  console.log(`# core ${dump.length} bytes`);
  const found = [];
  for (const a of accounts) {
    const e = g.cli(['key', 'export', a]);
    if (!h.ok(e.status === 0, `key export ${a.slice(0, 6)}…`, e.stderr)) continue;
    for (const [what, bytes] of needles(e.stdout.trim())) if (dump.indexOf(bytes) >= 0) found.push(`${a.slice(0, 6)}… ${what} at ${dump.indexOf(bytes)}`);
  }
  h.ok(found.length === 0, `the core dump holds no secret, seed or private key of ${accounts.length} keys`, found);
  if (process.env.JT_KEEP_CORE) fs.copyFileSync(path.join(h.dir, file), process.env.JT_KEEP_CORE);
  fs.rmSync(path.join(h.dir, file));
});
