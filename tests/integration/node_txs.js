// node_txs.js BUILD TRANSPORT — integration tests of jt-node's ledger engine and
// API over one transport ("ws" or "jtp"): every transaction type's success
// and its main failure results, queries, streams and bad input. Starts a real
// jt-node on loopback (ports chosen by the kernel), signs with jt-wallet, and
// prints "ok NAME" / "not ok NAME - detail" lines.
'use strict';
const { spawn, spawnSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');
const readline = require('readline');
const WebSocket = require(path.join(__dirname, '../interop/node_modules/ws'));

const build = path.resolve(process.argv[2] || 'build/test');
const transport = process.argv[3] || 'ws';
const NODE = path.join(build, 'bin/jt-node');
const WALLET = path.join(build, 'bin/jt-wallet');
const JTPCAT = path.join(build, 'tests/jtpcat');
const GENESIS = { address: 'jHb9CJAWyB4jr91VRWn96DkukG4bwdtyTh', secret: 'snoPBjXtMeMyMHUVTgbuqAfg1SUTb' };
const tag = `[${transport}]`;
let failures = 0;

function ok(cond, name, detail) {
  if (cond) console.log(`ok ${tag} ${name}`);
  else { failures++; console.log(`not ok ${tag} ${name} - ${detail === undefined ? '' : JSON.stringify(detail)}`); }
  return cond;
}
function eq(actual, expected, name) { return ok(actual === expected, name, { actual, expected }); }

// ---------------------------------------------------------------- node process
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'jt-node-it-'));
let node = null;
function cleanup() {
  if (node) node.kill('SIGKILL');
  fs.rmSync(dir, { recursive: true, force: true });
}
process.on('exit', cleanup);

function keygen() { return JSON.parse(spawnSync(WALLET, ['keygen'], { encoding: 'utf8' }).stdout); }

function startNode() {
  return new Promise((resolve, reject) => {
    node = spawn(NODE, ['run', '--data', dir, '--ws', '127.0.0.1:0', '--jtp', '127.0.0.1:0', '--close-ms', '0'],
      { stdio: ['ignore', 'ignore', 'pipe'] });
    const rl = readline.createInterface({ input: node.stderr });
    rl.on('line', (l) => {
      if (process.env.JT_IT_VERBOSE) console.error('# node: ' + l);
      const m = /event=start .* ws=\S+:(\d+) jtp=\S+:(\d+)/.exec(l);
      if (m) resolve({ ws: +m[1], jtp: +m[2] });
    });
    node.on('exit', (code, sig) => {
      if (node) console.log(`not ok ${tag} jt-node exited unexpectedly - code ${code} signal ${sig}`);
      reject(new Error('jt-node exited with ' + code));
    });
  });
}

// ---------------------------------------------------------------- clients
function makeClient(ports, nodeKey, identityFile) {
  const waiting = new Map();
  const listeners = [];
  let nextId = 1;
  let send;
  let closeFn;
  const onMessage = (text) => {
    let m;
    try { m = JSON.parse(text); } catch (e) { console.log('# unparseable message: ' + text.slice(0, 3000)); return; }
    if (m.type === 'response' && waiting.has(m.id)) { waiting.get(m.id)(m); waiting.delete(m.id); return; }
    for (const l of listeners) l(m);
  };
  const ready = new Promise((resolve, reject) => {
    if (transport === 'ws') {
      const ws = new WebSocket(`ws://127.0.0.1:${ports.ws}`);
      ws.on('open', resolve);
      ws.on('error', reject);
      ws.on('message', (d) => onMessage(d.toString()));
      send = (s) => ws.send(s);
      closeFn = () => ws.close();
    } else {
      const args = [`jtp://127.0.0.1:${ports.jtp}?key=${nodeKey}`];
      if (identityFile) args.push('--identity', identityFile);
      const p = spawn(JTPCAT, args,
        { stdio: ['pipe', 'pipe', 'inherit'] });
      readline.createInterface({ input: p.stdout }).on('line', onMessage);
      send = (s) => p.stdin.write(s + '\n');
      closeFn = () => p.stdin.end();
      resolve();
    }
  });
  return {
    ready,
    on: (f) => listeners.push(f),
    close: () => closeFn(),
    request(obj) {
      const id = nextId++;
      return new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error('timeout: ' + JSON.stringify(obj))), 15000);
        waiting.set(id, (m) => { clearTimeout(t); resolve(m); });
        send(JSON.stringify(Object.assign({ id }, obj)));
      });
    },
  };
}

// ---------------------------------------------------------------- helpers
let c; // the main client
const seqs = new Map();

function sign(secret, tx) {
  const r = spawnSync(WALLET, ['sign'], { input: secret + '\n' + JSON.stringify(tx), encoding: 'utf8' });
  if (r.status !== 0) throw new Error('jt-wallet sign: ' + r.stderr);
  return JSON.parse(r.stdout);
}

async function nextSeq(address) {
  if (!seqs.has(address)) {
    const r = await c.request({ command: 'account_info', account: address, ledger_index: 'current' });
    seqs.set(address, r.result.account_data.Sequence);
  }
  return seqs.get(address);
}

// Signs (filling Sequence and Fee) and submits; returns {submit, hash, blob}.
async function submit(who, tx, opts = {}) {
  const full = Object.assign({ Account: who.address, Fee: '10000', Flags: 0 }, tx);
  if (full.Sequence === undefined) full.Sequence = await nextSeq(who.address);
  const s = sign(opts.signer || who.secret, full);
  const r = await c.request({ command: 'submit', tx_blob: s.tx_blob });
  const er = r.result && r.result.engine_result;
  if (er && (er === 'tesSUCCESS' || er.startsWith('tec'))) seqs.set(who.address, full.Sequence + 1);
  return { r, er, hash: s.hash, blob: s.tx_blob };
}

async function accept() { return c.request({ command: 'ledger_accept' }); }

async function finalResult(hash) {
  const r = await c.request({ command: 'tx', transaction: hash });
  return r.result && r.result.meta ? r.result.meta.TransactionResult : (r.error || 'pending');
}

// Submit, close, and return the final result.
async function run(who, tx, opts) {
  const s = await submit(who, tx, opts);
  if (s.er !== 'tesSUCCESS' && !(s.er || '').startsWith('tec')) return { final: s.er, s };
  await accept();
  return { final: await finalResult(s.hash), s };
}

async function lines(address, peer) {
  const r = await c.request({ command: 'account_lines', account: address, ledger_index: 'validated', peer });
  return r.result ? r.result.lines : [];
}
function line(ls, peer, cur) { return ls.find((l) => l.account === peer && l.currency === cur); }
async function balance(address) {
  const r = await c.request({ command: 'account_info', account: address, ledger_index: 'validated' });
  return r.result ? r.result.account_data.Balance : null;
}
const cny = (issuer, value) => ({ currency: 'CNY', issuer: issuer.address, value: String(value) });

// ---------------------------------------------------------------- tests
async function main() {
  const init = spawnSync(NODE, ['init', '--data', dir, '--json'], { encoding: 'utf8' });
  if (!ok(init.status === 0, 'jt-node init', init.stderr)) return;
  const nodeKey = JSON.parse(init.stdout).node_public_key;
  // A client identity allowed to run admin commands over jtp.
  const idFile = path.join(dir, 'client.key');
  const seedHex = require('crypto').randomBytes(32).toString('hex');
  const idText = spawnSync(JTPCAT, ['--make-identity', idFile, seedHex], { encoding: 'utf8' });
  if (transport === 'jtp') {
    if (!ok(idText.status === 0, 'client identity', idText.stderr)) return;
    fs.appendFileSync(path.join(dir, 'jt-node.conf'), `\n[jtp]\nadmin_key = ${idText.stdout.trim()}\n`);
  }
  const ports = await startNode();
  c = makeClient(ports, nodeKey, idFile);
  await c.ready;

  const events = [];
  c.on((m) => events.push(m));
  let r = await c.request({ command: 'subscribe', streams: ['ledger', 'transactions'] });
  ok(r.status === 'success' && r.result.ledger_index === 1 && r.result.fee_base === 10, 'subscribe', r);

  const A = keygen(), B = keygen(), I = keygen(), I2 = keygen(), D = keygen(), P = keygen();

  // -- Payment (SWT)
  let t = await run(GENESIS, { TransactionType: 'Payment', Destination: A.address, Amount: '1000000000' });
  eq(t.final, 'tesSUCCESS', 'Payment creates an account');
  eq(await balance(A.address), '1000000000', 'new account balance');
  const closedTx = events.find((e) => e.type === 'transaction' && e.transaction.hash === t.s.hash);
  ok(closedTx && closedTx.validated === true && closedTx.meta.delivered_amount === '1000000000' &&
     events.some((e) => e.type === 'ledgerClosed' && e.ledger_index === closedTx.ledger_index),
     'ledgerClosed and transaction pushed', closedTx);
  for (const who of [B, I, I2, D, P])
    await submit(GENESIS, { TransactionType: 'Payment', Destination: who.address, Amount: '100000000' });
  await accept();
  t = await run(GENESIS, { TransactionType: 'Payment', Destination: keygen().address, Amount: '1000000' });
  eq(t.final, 'tecNO_DST_INSUF_SWT', 'Payment below the reserve to a new account');
  t = await run(A, { TransactionType: 'Payment', Destination: B.address, Amount: '995000000' });
  eq(t.final, 'tecUNFUNDED_PAYMENT', 'Payment beyond the spendable balance');
  const tecHash = t.s.hash;
  eq(await balance(A.address), String(1000000000 - 10000), 'tec claims only the fee');
  t = await run(A, { TransactionType: 'Payment', Destination: A.address, Amount: '1' });
  eq(t.final, 'temREDUNDANT', 'Payment to self');
  t = await run(A, { TransactionType: 'Payment', Destination: B.address, Amount: '1000', Fee: '5' });
  eq(t.final, 'telINSUF_FEE_P', 'Fee below the minimum');
  t = await run(A, { TransactionType: 'Payment', Destination: B.address, Amount: '1000', Sequence: 1 });
  eq(t.final, 'tefPAST_SEQ', 'past sequence');
  t = await run(A, { TransactionType: 'Payment', Destination: B.address, Amount: '1000', LastLedgerSequence: 2 });
  eq(t.final, 'tefMAX_LEDGER', 'LastLedgerSequence passed');
  t = await run(keygen(), { TransactionType: 'Payment', Destination: B.address, Amount: '1000', Sequence: 1 });
  eq(t.final, 'terNO_ACCOUNT', 'unfunded source account');
  // terPRE_SEQ: held, then applied once the gap is filled.
  const s0 = await nextSeq(A.address);
  const later = await submit(A, { TransactionType: 'Payment', Destination: B.address, Amount: '2000', Sequence: s0 + 1 });
  eq(later.er, 'terPRE_SEQ', 'future sequence is held (terPRE_SEQ)');
  await submit(A, { TransactionType: 'Payment', Destination: B.address, Amount: '1000', Sequence: s0 });
  await accept(); // closes s0; the held one joins the next open ledger
  await accept();
  seqs.set(A.address, s0 + 2);
  eq(await finalResult(later.hash), 'tesSUCCESS', 'held transaction applies after the gap is filled');
  const dup = await c.request({ command: 'submit', tx_blob: later.blob });
  ok(dup.result && ['tefPAST_SEQ', 'tefALREADY'].includes(dup.result.engine_result), 'resubmitting a validated blob', dup);

  // -- bad input
  const bad = later.blob.slice(0, -10) + (later.blob.slice(-10, -9) === '0' ? '1' : '0') + later.blob.slice(-9);
  r = await c.request({ command: 'submit', tx_blob: bad });
  ok(r.status === 'error' && r.error === 'invalidTransaction', 'tampered blob is refused', r);
  const sig = sign(A.secret, { TransactionType: 'Payment', Account: A.address, Destination: B.address, Amount: '7', Fee: '10000', Flags: 0, Sequence: 99 });
  // Inside TxnSignature: its header (74, then the DER length, 70 to 72
  // bytes) follows SigningPubKey (7321 and 33 bytes).
  const sigField = sig.tx_blob.indexOf('7321') + 4 + 66;
  ok(sig.tx_blob.slice(sigField, sigField + 2) === '74', 'the test finds TxnSignature in the blob', sig.tx_blob);
  const sigPos = sigField + 4 + 16;
  const badSig = sig.tx_blob.slice(0, sigPos) + (sig.tx_blob[sigPos] === 'A' ? 'B' : 'A') + sig.tx_blob.slice(sigPos + 1);
  r = await c.request({ command: 'submit', tx_blob: badSig });
  ok(r.status === 'error' && r.error === 'invalidTransaction' && /fails local checks/.test(r.error_exception), 'bad signature', r);
  r = await c.request({ command: 'submit', tx_blob: 'DEADBEEF' });
  ok(r.status === 'error' && r.error === 'invalidTransaction' && r.error_exception, 'garbage blob', r);
  r = await c.request({ command: 'submit', tx_blob: 'xyz' });
  eq(r.error, 'invalidParams', 'non-hex blob');
  r = await c.request({ command: 'account_info', account: 'jBAD' });
  eq(r.error, 'actMalformed', 'malformed account');
  r = await c.request({ command: 'account_info', account: keygen().address, ledger_index: 'validated' });
  ok(r.error === 'actNotFound' && r.account, 'unknown account', r);
  r = await c.request({ command: 'no_such_command' });
  eq(r.error, 'unknownCmd', 'unknown command');

  // -- pipelining: signatures are checked on worker threads, yet a client's
  // requests are answered and applied in the order sent. 200 payments with
  // consecutive sequences and two bad ones among them, then account_info,
  // all written before any reply is read: more than the 64 ready submits the
  // node finishes before its loop turns, so the order holds across slices.
  {
    const N = 200;
    const base = await nextSeq(A.address);
    const blobs = [];
    for (let i = 0; i < N; i++) {
      blobs.push(sign(A.secret, { TransactionType: 'Payment', Account: A.address, Destination: B.address,
        Amount: String(100 + i), Fee: '10000', Flags: 0, Sequence: base + i }).tx_blob);
    }
    const msgs = blobs.map((b) => ({ command: 'submit', tx_blob: b }));
    msgs.splice(12, 0, { command: 'submit', tx_blob: badSig });
    msgs.splice(100, 0, { command: 'submit', tx_blob: 'DEADBEEF' });
    msgs.push({ command: 'account_info', account: A.address, ledger_index: 'current' });
    const reqs = msgs.map((m) => c.request(m)); // sent in this order
    const arrival = [];
    const got = await Promise.all(reqs.map((pr, i) => pr.then((m) => { arrival.push(i); return m; })));
    const results = got.slice(0, -1).map((m) => (m.result ? m.result.engine_result : m.error));
    const want = blobs.map(() => 'tesSUCCESS');
    want.splice(12, 0, 'invalidTransaction');
    want.splice(100, 0, 'invalidTransaction');
    eq(JSON.stringify(results), JSON.stringify(want), 'pipelined submits apply in order (none held)');
    eq(JSON.stringify(arrival), JSON.stringify(got.map((m, i) => i)), 'pipelined replies arrive in request order');
    const info = got[got.length - 1];
    eq(info.result && info.result.account_data.Sequence, base + N, 'account_info after pipelined submits sees them all');
    seqs.set(A.address, base + N);
    await accept();
  }
  r = await c.request({ command: 'sign_for' });
  eq(r.error, 'notSupported', 'P3 command answers notSupported');
  r = await c.request({ command: 'ledger', ledger_index: 'nope' });
  eq(r.error, 'invalidParams', 'malformed ledger_index');
  r = await c.request({ command: 'tx', transaction: '00'.repeat(32) });
  eq(r.error, 'txnNotFound', 'unknown transaction');

  // -- TrustSet
  t = await run(A, { TransactionType: 'TrustSet', LimitAmount: cny(I, 1000) });
  eq(t.final, 'tesSUCCESS', 'TrustSet creates a line');
  let la = line(await lines(A.address), I.address, 'CNY');
  ok(la && la.limit === '1000' && la.balance === '0', 'account_lines shows the line', la);
  t = await run(B, { TransactionType: 'TrustSet', LimitAmount: cny(I, 1000) });
  eq(t.final, 'tesSUCCESS', 'second holder trusts the issuer');
  t = await run(A, { TransactionType: 'TrustSet', LimitAmount: cny(A, 10) });
  eq(t.final, 'temDST_IS_SRC', 'TrustSet to self');
  t = await run(A, { TransactionType: 'TrustSet', LimitAmount: { currency: 'CNY', issuer: I.address, value: '-1' } });
  eq(t.final, 'temBAD_LIMIT', 'negative limit');
  t = await run(A, { TransactionType: 'TrustSet', LimitAmount: { currency: 'USD', issuer: keygen().address, value: '5' } });
  eq(t.final, 'tecNO_DST', 'TrustSet to a missing account');
  // An account holding exactly the reserve cannot add a line.
  const poor = keygen();
  await run(GENESIS, { TransactionType: 'Payment', Destination: poor.address, Amount: '10010000' });
  t = await run(poor, { TransactionType: 'TrustSet', LimitAmount: cny(I, 5) });
  eq(t.final, 'tecNO_LINE_INSUF_RESERVE', 'TrustSet without the reserve');

  // -- issue, holder to holder, redeem
  t = await run(I, { TransactionType: 'Payment', Destination: A.address, Amount: cny(I, 500) });
  eq(t.final, 'tesSUCCESS', 'issuer issues to a holder');
  t = await run(I, { TransactionType: 'Payment', Destination: A.address, Amount: cny(I, 600) });
  eq(t.final, 'tecPATH_PARTIAL', 'issuing beyond the holder\'s limit');
  t = await run(I, { TransactionType: 'Payment', Destination: D.address, Amount: cny(I, 5) });
  eq(t.final, 'tecPATH_DRY', 'paying a holder without a line');
  t = await run(A, { TransactionType: 'Payment', Destination: B.address, Amount: cny(I, 120) });
  eq(t.final, 'tesSUCCESS', 'holder pays holder through the issuer');
  la = line(await lines(A.address), I.address, 'CNY');
  const lb = line(await lines(B.address), I.address, 'CNY');
  const li = await lines(I.address);
  ok(la.balance === '380' && lb.balance === '120' && line(li, A.address, 'CNY').balance === '-380',
    'balances seen from both sides', { la, lb, li });
  t = await run(A, { TransactionType: 'Payment', Destination: B.address, Amount: cny(I, 1000) });
  eq(t.final, 'tecPATH_PARTIAL', 'holder pays more than it holds');
  t = await run(A, { TransactionType: 'Payment', Destination: B.address, Amount: cny(I, 1000), Flags: 0x00020000 });
  eq(t.final, 'tesSUCCESS', 'partial payment');
  r = await c.request({ command: 'tx', transaction: t.s.hash });
  ok(r.result && r.result.meta.delivered_amount && r.result.meta.delivered_amount.value === '380',
    'partial payment reports delivered_amount', r.result && r.result.meta);
  t = await run(B, { TransactionType: 'Payment', Destination: I.address, Amount: cny(I, 100) });
  eq(t.final, 'tesSUCCESS', 'holder redeems to the issuer');
  eq(line(await lines(B.address), I.address, 'CNY').balance, '400', 'redeemed balance');

  // -- AccountSet: TransferRate, RequireDest, flags
  t = await run(I, { TransactionType: 'AccountSet', TransferRate: 1010000000 });
  eq(t.final, 'tesSUCCESS', 'AccountSet TransferRate');
  t = await run(B, { TransactionType: 'Payment', Destination: A.address, Amount: cny(I, 100) });
  eq(t.final, 'tecPATH_PARTIAL', 'transfer fee needs SendMax');
  t = await run(B, { TransactionType: 'Payment', Destination: A.address, Amount: cny(I, 100), SendMax: cny(I, 101) });
  eq(t.final, 'tesSUCCESS', 'holder to holder with a transfer fee');
  eq(line(await lines(B.address), I.address, 'CNY').balance, '299', 'the sender pays the transfer fee');
  t = await run(I, { TransactionType: 'AccountSet', TransferRate: 900000000 });
  eq(t.final, 'temBAD_TRANSFER_RATE', 'TransferRate below 1');
  t = await run(D, { TransactionType: 'AccountSet', SetFlag: 1 });
  eq(t.final, 'tesSUCCESS', 'AccountSet RequireDest');
  t = await run(A, { TransactionType: 'Payment', Destination: D.address, Amount: '1000' });
  eq(t.final, 'tecDST_TAG_NEEDED', 'payment without a destination tag');
  t = await run(A, { TransactionType: 'Payment', Destination: D.address, Amount: '1000', DestinationTag: 7 });
  eq(t.final, 'tesSUCCESS', 'payment with a destination tag');
  t = await run(D, { TransactionType: 'AccountSet', Domain: '6A742E6578616D706C65', MessageKey: '03' + '11'.repeat(32) });
  r = await c.request({ command: 'account_info', account: D.address, ledger_index: 'validated' });
  ok(t.final === 'tesSUCCESS' && r.result.account_data.Domain === '6A742E6578616D706C65' && (r.result.account_data.Flags & 0x00020000),
    'AccountSet Domain and MessageKey', r.result && r.result.account_data);
  t = await run(D, { TransactionType: 'AccountSet', Flags: 0x00010000 | 0x00020000 });
  eq(t.final, 'temINVALID_FLAG', 'contradictory AccountSet flags');

  // -- RequireAuth and RelationSet authorize
  t = await run(I2, { TransactionType: 'AccountSet', SetFlag: 2 });
  eq(t.final, 'tesSUCCESS', 'AccountSet RequireAuth');
  await run(A, { TransactionType: 'TrustSet', LimitAmount: { currency: 'USD', issuer: I2.address, value: '100' } });
  t = await run(I2, { TransactionType: 'Payment', Destination: A.address, Amount: { currency: 'USD', issuer: I2.address, value: '10' } });
  eq(t.final, 'tecPATH_DRY', 'issuing to an unauthorized holder (skywelld: terNO_AUTH, a dry path)');
  t = await run(I2, { TransactionType: 'RelationSet', Target: A.address, RelationType: 1, LimitAmount: { currency: 'USD', issuer: I2.address, value: '50' } });
  eq(t.final, 'tesSUCCESS', 'RelationSet authorize');
  t = await run(I2, { TransactionType: 'Payment', Destination: A.address, Amount: { currency: 'USD', issuer: I2.address, value: '10' } });
  eq(t.final, 'tesSUCCESS', 'issuing to an authorized holder');
  r = await c.request({ command: 'account_relation', account: I2.address, ledger_index: 'validated' });
  ok(r.result && r.result.lines.length === 1 && r.result.lines[0].limit_peer === A.address, 'account_relation lists it', r.result);
  r = await c.request({ command: 'account_relation', account: A.address, relation_type: 1, ledger_index: 'validated' });
  ok(r.result && r.result.lines.length === 1 && r.result.lines[0].limit_peer === I2.address &&
     r.result.lines[0].limit === '50' && r.result.lines[0].relation_type === '1' && r.result.lines[0].issuer === I2.address,
     'account_relation lists it from the holder too', r.result);
  r = await c.request({ command: 'account_relcp', account: A.address, relation_type: 1, ledger_index: 'validated' });
  ok(r.result && r.result.lines.length === 1 && r.result.lines[0].limit_peer === I2.address, 'account_relcp lists it from the holder', r.result);
  r = await c.request({ command: 'account_relcp', account: I2.address, relation_type: 1, ledger_index: 'validated' });
  ok(r.result && r.result.lines.length === 0, 'account_relcp: none names the issuer', r.result);
  t = await run(I2, { TransactionType: 'RelationSet', Target: keygen().address, RelationType: 1, LimitAmount: { currency: 'USD', issuer: I2.address, value: '1' } });
  eq(t.final, 'tecNO_TARGET', 'RelationSet to a missing account');

  // -- freeze: RelationSet 3 / RelationDel 3 / GlobalFreeze
  t = await run(I, { TransactionType: 'RelationSet', Target: A.address, RelationType: 3, LimitAmount: cny(I, 0) });
  eq(t.final, 'tesSUCCESS', 'RelationSet freeze');
  t = await run(A, { TransactionType: 'Payment', Destination: B.address, Amount: cny(I, 1), SendMax: cny(I, 2) });
  eq(t.final, 'tecPATH_DRY', 'a frozen holder cannot pay another holder (a frozen link: a dry path, as in skywelld)');
  t = await run(I, { TransactionType: 'RelationDel', Target: A.address, RelationType: 3, LimitAmount: cny(I, 0) });
  eq(t.final, 'tesSUCCESS', 'RelationDel unfreezes');
  t = await run(A, { TransactionType: 'Payment', Destination: B.address, Amount: cny(I, 1), SendMax: cny(I, 2) });
  eq(t.final, 'tesSUCCESS', 'payment after unfreeze');
  t = await run(I, { TransactionType: 'RelationDel', Target: A.address, RelationType: 3, LimitAmount: cny(I, 0) });
  eq(t.final, 'tecNO_ENTRY', 'RelationDel without a relation');
  // a freeze relation with a limit holds that much back
  r = await c.request({ command: 'account_lines', account: A.address, peer: I.address, ledger_index: 'current' });
  const held = Number(r.result.lines[0].balance);
  t = await run(I, { TransactionType: 'RelationSet', Target: A.address, RelationType: 3, LimitAmount: cny(I, held - 2) });
  eq(t.final, 'tesSUCCESS', 'RelationSet freeze with a limit');
  t = await run(A, { TransactionType: 'Payment', Destination: B.address, Amount: cny(I, 3) });
  eq(t.final, 'telINSUF_FUND', 'paying more than the unfrozen part');
  t = await run(A, { TransactionType: 'Payment', Destination: B.address, Amount: cny(I, 1), SendMax: cny(I, 2) });
  eq(t.final, 'tesSUCCESS', 'paying the unfrozen part');
  r = await c.request({ command: 'account_relation', account: A.address, relation_type: 3, ledger_index: 'validated' });
  ok(r.result && r.result.lines.length === 1 && r.result.lines[0].limit_peer === I.address && Number(r.result.lines[0].limit) === held - 2,
     'account_relation shows the holder its frozen amount', r.result);
  t = await run(I, { TransactionType: 'RelationDel', Target: A.address, RelationType: 3, LimitAmount: cny(I, 0) });
  eq(t.final, 'tesSUCCESS', 'RelationDel of the limited freeze');
  t = await run(I, { TransactionType: 'AccountSet', SetFlag: 7 });
  t = await run(A, { TransactionType: 'Payment', Destination: B.address, Amount: cny(I, 1), SendMax: cny(I, 2) });
  eq(t.final, 'tecPATH_DRY', 'global freeze (a dry path, as in skywelld)');
  await run(I, { TransactionType: 'AccountSet', ClearFlag: 7 });
  t = await run(I2, { TransactionType: 'AccountSet', SetFlag: 6 });
  t = await run(I2, { TransactionType: 'RelationSet', Target: A.address, RelationType: 3, LimitAmount: { currency: 'USD', issuer: I2.address, value: '0' } });
  eq(t.final, 'tecNO_PERMISSION', 'NoFreeze forbids freezing');

  // -- SetRegularKey and DisableMaster
  const R = keygen();
  t = await run(P, { TransactionType: 'AccountSet', SetFlag: 4 });
  eq(t.final, 'tecNO_REGULAR_KEY', 'DisableMaster without a regular key');
  t = await run(P, { TransactionType: 'SetRegularKey', RegularKey: R.address });
  eq(t.final, 'tesSUCCESS', 'SetRegularKey');
  t = await run(P, { TransactionType: 'Payment', Destination: A.address, Amount: '1000' }, { signer: R.secret });
  eq(t.final, 'tesSUCCESS', 'signed with the regular key');
  t = await run(P, { TransactionType: 'Payment', Destination: A.address, Amount: '1000' }, { signer: keygen().secret });
  eq(t.final, 'tefBAD_AUTH', 'signed with an unrelated key');
  t = await run(P, { TransactionType: 'AccountSet', SetFlag: 4 }, { signer: R.secret });
  eq(t.final, 'tesSUCCESS', 'DisableMaster');
  t = await run(P, { TransactionType: 'Payment', Destination: A.address, Amount: '1000' });
  eq(t.final, 'tefMASTER_DISABLED', 'master key after DisableMaster');
  t = await run(P, { TransactionType: 'SetRegularKey' }, { signer: R.secret });
  eq(t.final, 'tecMASTER_DISABLED', 'removing the only key');

  // -- offers
  t = await run(A, { TransactionType: 'OfferCreate', TakerPays: cny(I, 10), TakerGets: '50000000' });
  eq(t.final, 'tesSUCCESS', 'OfferCreate');
  const offerSeq = seqs.get(A.address) - 1;
  r = await c.request({ command: 'account_offers', account: A.address, ledger_index: 'validated' });
  ok(r.result && r.result.offers.length === 1 && r.result.offers[0].seq === offerSeq && r.result.offers[0].taker_gets === '50000000',
    'account_offers', r.result);
  r = await c.request({ command: 'book_offers', taker_gets: { currency: 'SWT' }, taker_pays: { currency: 'CNY', issuer: I.address }, ledger_index: 'validated' });
  ok(r.result && r.result.offers.length === 1 && r.result.offers[0].quality && r.result.offers[0].owner_funds, 'book_offers', r.result);
  r = await c.request({ command: 'book_offers', taker_gets: { currency: 'SWT' }, taker_pays: { currency: 'SWT' } });
  eq(r.error, 'badMarket', 'book_offers with identical sides');
  t = await run(D, { TransactionType: 'OfferCreate', TakerPays: '1000', TakerGets: cny(I, 10) });
  eq(t.final, 'tecUNFUNDED_OFFER', 'unfunded offer');
  t = await run(A, { TransactionType: 'OfferCreate', TakerPays: cny(I, 10), TakerGets: cny(I, 10) });
  eq(t.final, 'temREDUNDANT', 'offer of a currency for itself');
  // Crossing: B sells 5 CNY for 25 SWT, ImmediateOrCancel, at A's price. I
  // charges 1%, so B's line goes down by 5.05; A's offer keeps the rest.
  const la0 = line(await lines(A.address), I.address, 'CNY').balance;
  const lb0 = line(await lines(B.address), I.address, 'CNY').balance;
  const bb0 = await balance(B.address);
  t = await run(B, { TransactionType: 'OfferCreate', TakerPays: '25000000', TakerGets: cny(I, 5), Flags: 0x00020000 });
  eq(t.final, 'tesSUCCESS', 'ImmediateOrCancel offer crosses the book');
  r = await c.request({ command: 'account_offers', account: A.address, ledger_index: 'validated' });
  ok(r.result && r.result.offers.length === 1 && r.result.offers[0].taker_gets === '25000000' &&
     r.result.offers[0].taker_pays.value === '5', 'the resting offer is partly taken', r.result);
  r = await c.request({ command: 'account_offers', account: B.address, ledger_index: 'validated' });
  ok(r.result && r.result.offers.length === 0, 'an ImmediateOrCancel offer never rests', r.result);
  eq(Number(line(await lines(A.address), I.address, 'CNY').balance), Number(la0) + 5, 'the maker receives what it bought');
  eq(Number(line(await lines(B.address), I.address, 'CNY').balance), Number(lb0) - 5.05, 'the taker pays the transfer fee');
  eq(await balance(B.address), String(Number(bb0) + 25000000 - 10000), 'the taker receives SWT at the maker\'s price');
  t = await run(B, { TransactionType: 'OfferCreate', TakerPays: '50000000', TakerGets: cny(I, 10), Flags: 0x00040000 });
  eq(t.final, 'tesSUCCESS', 'a FillOrKill offer that cannot fill is killed (tesSUCCESS)');
  r = await c.request({ command: 'account_offers', account: A.address, ledger_index: 'validated' });
  ok(r.result && r.result.offers.length === 1 && r.result.offers[0].taker_gets === '25000000', 'a killed FillOrKill takes nothing', r.result);
  t = await run(A, { TransactionType: 'OfferCancel', OfferSequence: offerSeq });
  eq(t.final, 'tesSUCCESS', 'OfferCancel');
  r = await c.request({ command: 'account_offers', account: A.address, ledger_index: 'validated' });
  ok(r.result && r.result.offers.length === 0, 'offer removed', r.result);

  // -- queries
  r = await c.request({ command: 'account_tx', account: A.address, limit: 5 });
  ok(r.result && r.result.transactions.length === 5 && r.result.marker, 'account_tx first page', r.result && r.result.marker);
  const all = [];
  let marker;
  for (let page = 0; page < 50; page++) {
    r = await c.request({ command: 'account_tx', account: A.address, limit: 7, marker, forward: true });
    all.push(...r.result.transactions.map((x) => x.tx.hash));
    marker = r.result.marker;
    if (!marker) break;
  }
  r = await c.request({ command: 'account_tx', account: A.address, limit: 1000 });
  ok(all.length === r.result.transactions.length && new Set(all).size === all.length &&
     all.slice().reverse().join() === r.result.transactions.map((x) => x.tx.hash).join(),
     'account_tx markers walk every transaction once, forward = reverse of newest first', { paged: all.length, all: r.result.transactions.length });
  // As skywelld indexes history (the accounts of the entries a transaction
  // changed): a tec payment is the sender's only, not its destination's.
  ok(all.includes(tecHash), 'a tec payment is in its sender\'s history');
  r = await c.request({ command: 'account_tx', account: B.address, limit: 1000 });
  ok(r.result && r.result.transactions.length > 0 && !r.result.transactions.some((x) => x.tx.hash === tecHash),
     'a tec payment is not in its destination\'s history', r.result && r.result.transactions.length);
  r = await c.request({ command: 'ledger', ledger_index: 'validated', transactions: true, expand: true });
  ok(r.result && r.result.ledger.closed === true && typeof r.result.ledger.ledger_index === 'string' &&
     r.result.ledger.transactions.length >= 1 && r.result.ledger.transactions[0].metaData, 'ledger with expanded transactions', r.result && r.result.ledger);
  r = await c.request({ command: 'ledger' });
  ok(r.result && r.result.closed && r.result.closed.ledger.accepted === true && r.result.open.ledger.closed === false, 'bare ledger request', r.result);
  r = await c.request({ command: 'account_objects', account: A.address, ledger_index: 'validated' });
  ok(r.result && r.result.account_objects.some((o) => o.LedgerEntryType === 'SkywellState'), 'account_objects', r.result);
  r = await c.request({ command: 'account_currencies', account: A.address, ledger_index: 'validated' });
  ok(r.result && r.result.receive_currencies.includes('CNY'), 'account_currencies', r.result);
  r = await c.request({ command: 'server_info' });
  ok(r.result && r.result.info.server_state === 'full' && r.result.info.validated_ledger.seq > 1, 'server_info', r.result);

  // -- hostile peers: the node drops them and keeps serving this client
  if (transport === 'ws') {
    const raw = new WebSocket(`ws://127.0.0.1:${ports.ws}`);
    await new Promise((res, rej) => { raw.on('open', res); raw.on('error', rej); });
    const got = [];
    raw.on('message', (d) => got.push(JSON.parse(d.toString())));
    raw.send('this is not json');
    raw.send(Buffer.from([1, 2, 3]), { binary: true });
    await new Promise((res) => setTimeout(res, 300));
    ok(got.some((m) => m.error === 'jsonInvalid') && got.some((m) => m.error === 'wsTextRequired'),
      'malformed request and binary frame get clear errors', got);
    const closed = new Promise((res) => raw.on('close', (code) => res(code)));
    raw.send('{"command":"ping","pad":"' + 'x'.repeat(2 << 20) + '"}');
    const code = await Promise.race([closed, new Promise((res) => setTimeout(() => res('open'), 5000))]);
    ok(code !== 'open', 'an oversized message closes that connection', code);
  } else {
    const net = require('net');
    const sock = net.connect(ports.jtp, '127.0.0.1');
    await new Promise((res) => sock.on('connect', res));
    const closed = new Promise((res) => sock.on('close', () => res('closed')));
    sock.on('error', () => {});
    sock.write(Buffer.from('GARBAGE-NOT-JTP\0\0\0\0' + 'x'.repeat(64)));
    const st = await Promise.race([closed, new Promise((res) => setTimeout(() => res('open'), 5000))]);
    eq(st, 'closed', 'a peer that does not speak jtp is disconnected');
  }
  r = await c.request({ command: 'ping' });
  eq(r.status, 'success', 'other clients are still served');

  c.close();
  if (transport === 'jtp') {
    // A client without the admin key may query but not close ledgers.
    const d = makeClient(ports, nodeKey, null);
    await d.ready;
    const saved = c;
    c = d;
    r = await c.request({ command: 'ledger_accept' });
    eq(r.error, 'noPermission', 'ledger_accept needs an admin key over jtp');
    r = await c.request({ command: 'ledger_closed' });
    ok(r.result && r.result.ledger_index > 1, 'a non-admin client is served', r);
    c = saved;
    d.close();
  }
  const v = spawnSync(NODE, ['verify', '--data', dir], { encoding: 'utf8' });
  if (node) { const n = node; node = null; n.kill('SIGTERM'); await new Promise((res) => n.on('exit', res)); }
  const v2 = spawnSync(NODE, ['verify', '--data', dir], { encoding: 'utf8' });
  ok(v2.status === 0 && /^ok /.test(v2.stdout), 'jt-node verify after the run', v2.stdout + v2.stderr + v.stderr);
}

main().then(() => process.exit(failures ? 1 : 0), (e) => {
  console.log(`not ok ${tag} unexpected error - ${e.stack}`);
  process.exit(1);
});
