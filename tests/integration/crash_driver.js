// crash_driver.js BIN_DIR DATA_DIR WORK_DIR — the body of test_node_crash.sh
// and, with JT_CRASH_MODE=fill, of test_node_diskfull.sh.
//
// Crash mode keeps a steady stream of payments flowing into jt-node, kills it
// with SIGKILL at random moments, and after every kill checks that:
//   * `jt-node verify` passes;
//   * every ledger announced (ledgerClosed) before the kill is still there
//     with the same hash and transaction count;
//   * every transaction announced as validated before the kill is still found
//     by `tx`, validated, in the same ledger, with the same result;
//   * the history (account_tx) and the state agree: the genesis Sequence
//     counts the included transactions, every balance is what the history
//     says, all balances add up to total_coins, and total_coins is the
//     genesis supply minus the fees of all included transactions.
// Prints "ok ..." / "not ok ..." lines (one per round, then a summary).
//
// Fill mode streams payments until jt-node stops by itself because its store
// (DATA_DIR/jt-node.conf sets a small store_map_size) or its disk is full,
// checks that it exits non-zero saying so, makes room as an operator would
// (JT_FILL_RECOVER: "map" raises store_map_size; "move:DIR" copies the data
// directory to DIR on a larger disk), and then runs the same checks as
// after a kill, once, and that the node closes ledgers again.
//
// Environment: JT_CRASH_ROUNDS (20), JT_SEED (random), JT_CRASH_RATE
// (payments per second, 100; fill mode 400), JT_CRASH_CLOSE_MS (100),
// JT_CRASH_MODE (crash or fill), JT_FILL_RECOVER (map), JT_FILL_PAYMENTS
// (payments signed for fill mode, 2500; a 1 MiB store holds about 1600),
// JT_FILL_POOL (a file keeping the signed payments for the next run).
'use strict';
const path = require('path');
const fs = require('fs');
const { spawn } = require('child_process');
const WebSocket = require(path.join(__dirname, '../interop/node_modules/ws'));

const [BIN, FIRST_DATA, WORK] = process.argv.slice(2);
let DATA = FIRST_DATA; // fill mode moves it
if (!BIN || !DATA || !WORK) {
  console.error('usage: crash_driver.js BIN_DIR DATA_DIR WORK_DIR');
  process.exit(2);
}
const NODE = path.join(BIN, 'jt-node');
const WALLET = path.join(BIN, 'jt-wallet');
const ROUNDS = parseInt(process.env.JT_CRASH_ROUNDS || '20', 10);
const MODE = process.env.JT_CRASH_MODE || 'crash';
const RATE = parseInt(process.env.JT_CRASH_RATE || (MODE === 'fill' ? '400' : '100'), 10);
const CLOSE_MS = parseInt(process.env.JT_CRASH_CLOSE_MS || '100', 10);
const SEED = process.env.JT_SEED ? parseInt(process.env.JT_SEED, 10) >>> 0 : (Math.random() * 2 ** 32) >>> 0;
const DELAY_MIN = 200, DELAY_MAX = 1500; // ms of streaming before each kill
const GENESIS = 'jHb9CJAWyB4jr91VRWn96DkukG4bwdtyTh';
const GENESIS_SECRET = 'snoPBjXtMeMyMHUVTgbuqAfg1SUTb';
const TOTAL = 600000000000000000n;
const FEE = 10000n;
const LOG = path.join(WORK, 'node.log');
const PIDFILE = path.join(WORK, 'node.pid');
const DEADLINE = Date.now() + 170000;

// ---------------------------------------------------------------- utilities

function mulberry32(a) {
  return function () {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const rand = mulberry32(SEED);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

let failures = 0;
function ok(name) { console.log('ok ' + name); }
function notOk(name, details) {
  failures++;
  console.log('not ok ' + name);
  for (const d of details || []) for (const l of String(d).split('\n')) console.log('#   ' + l);
}

// Runs a program; resolves {code, signal, stdout, stderr}.
function run(cmd, args, input) {
  return new Promise((resolve) => {
    const p = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '', err = '';
    p.stdout.on('data', (d) => { out += d; });
    p.stderr.on('data', (d) => { err += d; });
    p.on('error', (e) => resolve({ code: -1, signal: null, stdout: out, stderr: err + e.message }));
    p.on('close', (code, signal) => resolve({ code, signal, stdout: out, stderr: err }));
    p.stdin.on('error', () => {});
    p.stdin.end(input || '');
  });
}

async function parallel(items, width, fn) {
  const out = new Array(items.length);
  let next = 0;
  async function worker() {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i], i);
    }
  }
  await Promise.all(Array.from({ length: width }, worker));
  return out;
}

function logTail(n) {
  try {
    const lines = fs.readFileSync(LOG, 'utf8').split('\n');
    return lines.slice(-n - 1).join('\n');
  } catch (e) { return '(no node log)'; }
}

// ------------------------------------------------------------ payment pool
//
// Payments from the genesis account, Sequence 1..N, Fee 10000 drops:
//   * seq % 10 == 0: 1 SWT to one of 3 accounts that never get funded
//     -> tecNO_DST_INSUF_SWT (included, fee burned, sequence consumed);
//   * seq % 25 == 1: 20 SWT to a fresh account (creates it);
//   * otherwise 10..22 SWT to one of 8 regular accounts (the first payment
//     to each creates it).
//
// Signing: jt-wallet sign is one process per payment, which costs ~10 ms in
// a sanitizer build; jingtum-lib's local signer (tests/interop/node_modules)
// makes the same bytes in ~1 ms. The first payments of each kind are signed
// both ways and must match; when they do not, or when jingtum-lib is not
// installed, every payment is signed with jt-wallet.

function jsSigner() {
  try {
    const nm = path.join(__dirname, '../interop/node_modules');
    const Wallet = require(path.join(nm, 'jingtum-base-lib')).Wallet;
    const Ser = require(path.join(nm, 'jingtum-lib/lib/Serializer')).Serializer;
    const w = new Wallet(GENESIS_SECRET);
    const crypto = require('crypto');
    return (it) => {
      // jingtum-lib's serializer takes SWT amounts in SWT, not drops.
      const tx = { Flags: 0, Fee: 0.01, TransactionType: 'Payment', Account: GENESIS,
        Amount: String(it.amount / 1000000n), Destination: it.dest, Sequence: it.seq };
      tx.SigningPubKey = w.getPublicKey();
      tx.TxnSignature = w.signTx(Ser.from_json(tx).hash(0x53545800));
      const blob = Ser.from_json(tx).to_hex().toUpperCase();
      const hash = crypto.createHash('sha512').update(Buffer.from('54584E00' + blob, 'hex'))
        .digest('hex').slice(0, 64).toUpperCase();
      return { tx_blob: blob, hash };
    };
  } catch (e) {
    return null;
  }
}

async function walletSign(it) {
  const tx = { Flags: 0, Fee: 10000, TransactionType: 'Payment', Account: GENESIS,
    Amount: String(it.amount), Destination: it.dest, Sequence: it.seq };
  const r = await run(WALLET, ['sign'], GENESIS_SECRET + '\n' + JSON.stringify(tx) + '\n');
  if (r.code !== 0) throw new Error('jt-wallet sign failed: ' + r.stderr);
  return JSON.parse(r.stdout);
}

async function makePool(n) {
  const nFresh = Math.ceil(n / 25);
  const addrs = await parallel(Array.from({ length: 8 + 3 + nFresh }), 2, async () => {
    const r = await run(WALLET, ['keygen']);
    if (r.code !== 0) throw new Error('jt-wallet keygen failed: ' + r.stderr);
    return JSON.parse(r.stdout).address;
  });
  const regular = addrs.slice(0, 8), dry = addrs.slice(8, 11), fresh = addrs.slice(11);
  const items = [];
  for (let seq = 1; seq <= n; seq++) {
    let dest, swt, kind;
    if (seq % 10 === 0) { dest = dry[(seq / 10) % 3]; swt = 1; kind = 'tec'; }
    else if (seq % 25 === 1) { dest = fresh[(seq - 1) / 25]; swt = 20; kind = 'create'; }
    else { dest = regular[seq % 8]; swt = 10 + (seq % 13); kind = 'pay'; }
    items.push({ seq, dest, amount: BigInt(swt) * 1000000n, kind });
  }
  let how = 'jt-wallet sign';
  let sign = jsSigner();
  if (sign) {
    const probe = [items[0], items[1], items[9]].filter(Boolean); // create, pay, tec
    for (const it of probe) {
      const a = sign(it), b = await walletSign(it);
      if (a.tx_blob !== b.tx_blob || a.hash !== b.hash) {
        console.log(`# jingtum-lib and jt-wallet sign Sequence ${it.seq} differently; signing with jt-wallet`);
        console.log(`#   jingtum-lib ${JSON.stringify(a)}`);
        console.log(`#   jt-wallet   ${JSON.stringify(b)}`);
        sign = null;
        break;
      }
    }
  }
  if (sign) {
    how = 'jingtum-lib (checked against jt-wallet)';
    for (const it of items) Object.assign(it, sign(it));
  } else {
    await parallel(items, 2, async (it) => {
      const o = await walletSign(it);
      it.blob = o.tx_blob;
      it.hash = o.hash;
    });
  }
  for (const it of items) if (it.tx_blob) { it.blob = it.tx_blob; delete it.tx_blob; }
  return { items, byHash: new Map(items.map((it) => [it.hash, it])), how };
}

// -------------------------------------------------------------- the node

let node = null; // {proc, port, exited, exit}

function startNode(label) {
  return new Promise((resolve, reject) => {
    const logfd = fs.openSync(LOG, 'a');
    fs.writeSync(logfd, `--- ${label}\n`);
    const proc = spawn(NODE, ['run', '--data', DATA, '--ws', '127.0.0.1:0', '--jtp', '127.0.0.1:0',
      '--close-ms', String(CLOSE_MS)], { stdio: ['ignore', logfd, 'pipe'] });
    fs.writeFileSync(PIDFILE, String(proc.pid) + '\n');
    const n = { proc, port: 0, exited: false, exit: null, killed: false };
    let buf = '', started = false;
    const timer = setTimeout(() => {
      if (!started) { reject(new Error('no start line within 30 s')); }
    }, 30000);
    proc.stderr.on('data', (d) => {
      fs.writeSync(logfd, d);
      if (started) return;
      buf += d;
      const m = /jt-node event=start .*\bws=\S*:(\d+)\s/.exec(buf);
      if (m) {
        started = true;
        clearTimeout(timer);
        n.port = parseInt(m[1], 10);
        resolve(n);
      }
    });
    proc.on('exit', (code, signal) => {
      n.exited = true;
      n.exit = { code, signal };
      try { // unless a newer process has written its own
        if (fs.readFileSync(PIDFILE, 'utf8').trim() === String(proc.pid)) fs.unlinkSync(PIDFILE);
      } catch (e) { /* gone */ }
      if (!started) {
        clearTimeout(timer);
        reject(new Error(`jt-node exited before starting (code ${code}, signal ${signal})`));
      }
    });
    proc.on('close', () => { try { fs.closeSync(logfd); } catch (e) { /* closed */ } });
    node = n;
  });
}

function waitExit(n) {
  return new Promise((resolve) => {
    if (n.exited) return resolve(n.exit);
    n.proc.on('exit', (code, signal) => resolve({ code, signal }));
  });
}

async function killNode(n) {
  n.killed = true;
  try { process.kill(n.proc.pid, 'SIGKILL'); } catch (e) { /* already gone */ }
  return waitExit(n);
}

// ------------------------------------------------------------ WS client

class Client {
  constructor(url, onPush) {
    this.url = url;
    this.onPush = onPush;
    this.nextId = 1;
    this.pending = new Map();
    this.closed = false;
  }
  open() {
    return new Promise((resolve, reject) => {
      this.ws = new WebSocket(this.url);
      this.ws.on('open', resolve);
      this.ws.on('error', (e) => { if (!this.opened) reject(e); });
      this.ws.on('message', (m) => this.onMessage(m.toString()));
      this.closedP = new Promise((r) => this.ws.on('close', () => {
        this.closed = true;
        for (const [, p] of this.pending) p.reject(new Error('connection closed'));
        this.pending.clear();
        r();
      }));
    }).then(() => { this.opened = true; });
  }
  onMessage(s) {
    let o;
    try { o = JSON.parse(s); } catch (e) { return; }
    if (o.type === 'response' && this.pending.has(o.id)) {
      const p = this.pending.get(o.id);
      this.pending.delete(o.id);
      clearTimeout(p.timer);
      p.resolve(o);
    } else if (this.onPush) {
      this.onPush(o);
    }
  }
  send(req) { // resolves with the whole response
    return new Promise((resolve, reject) => {
      if (this.closed) return reject(new Error('connection closed'));
      const id = this.nextId++;
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error('timeout on ' + JSON.stringify(req).slice(0, 200)));
      }, 20000);
      this.pending.set(id, { resolve, reject, timer });
      this.ws.send(JSON.stringify(Object.assign({ id }, req)));
    });
  }
  async call(req) { // resolves with the result, rejects on an error response
    const r = await this.send(req);
    if (r.status !== 'success') {
      throw new Error(`${req.command} ${JSON.stringify(req).slice(0, 160)} -> ${r.error}: ${r.error_message || r.error_exception || ''}`);
    }
    return r.result;
  }
  close() {
    if (!this.closed) this.ws.terminate();
    return this.closedP;
  }
}

// ------------------------------------------------------- shared records

const announcedTx = new Map(); // hash -> {ledger, result, round}
const announcedLedgers = new Map(); // index -> {hash, txn_count, round}
let lastAnnounced = 0;

function recorder(round, rec) {
  return (o) => {
    if (o.type === 'ledgerClosed') {
      announcedLedgers.set(o.ledger_index, { hash: o.ledger_hash, txn_count: o.txn_count, round });
      rec.ledgers.push(o.ledger_index);
      rec.lastClosedAt = Date.now();
      if (rec.onClosed) rec.onClosed();
      if (o.ledger_index > lastAnnounced) lastAnnounced = o.ledger_index;
    } else if (o.type === 'transaction') {
      if (o.validated === true && o.status === 'closed') {
        const h = o.transaction && o.transaction.hash;
        if (announcedTx.has(h)) rec.issues.push(`transaction ${h} announced twice (ledgers ${announcedTx.get(h).ledger} and ${o.ledger_index})`);
        announcedTx.set(h, { ledger: o.ledger_index, result: o.engine_result, round });
        rec.txs.push(h);
      }
    }
  };
}

// ---------------------------------------------------------------- checks

// Lists up to `max` items, then how many more.
function some(list, max) {
  return list.slice(0, max).join(', ') + (list.length > max ? `, ... (${list.length} in all)` : '');
}

async function checkAfterRestart(c, pool, round, rec) {
  const issues = [];
  const lost = new Set(); // announced transactions the node no longer has
  const lc = await c.call({ command: 'ledger_closed' });
  if (!(lc.ledger_index >= lastAnnounced)) {
    issues.push(`ledger_closed is ${lc.ledger_index}, but ledger ${lastAnnounced} was announced before the kill`);
  }
  // Ledgers announced in the last stretch: same hash, same transactions.
  const txsByLedger = new Map();
  for (const h of rec.txs) {
    const l = announcedTx.get(h).ledger;
    if (!txsByLedger.has(l)) txsByLedger.set(l, []);
    txsByLedger.get(l).push(h);
  }
  const goneLedgers = [];
  for (const idx of rec.ledgers) {
    const want = announcedLedgers.get(idx);
    let got;
    try { got = (await c.call({ command: 'ledger', ledger_index: idx, transactions: true })).ledger; }
    catch (e) { issues.push(`announced ledger ${idx} (${want.hash}): ${e.message}`); goneLedgers.push(idx); continue; }
    if (got.closed !== true || !got.hash) { goneLedgers.push(idx); continue; }
    if (got.hash !== want.hash) issues.push(`ledger ${idx}: hash ${got.hash}, announced ${want.hash}`);
    const list = got.transactions || [];
    if (list.length !== want.txn_count) issues.push(`ledger ${idx}: ${list.length} transactions, announced txn_count ${want.txn_count}`);
    const missing = (txsByLedger.get(idx) || []).filter((h) => !list.includes(h));
    if (missing.length) issues.push(`ledger ${idx}: announced transactions missing from its list: ${some(missing, 3)}`);
  }
  if (goneLedgers.length) {
    issues.push(`announced ledgers no longer closed after the restart: ${some(goneLedgers, 10)} (last closed now ${lc.ledger_index})`);
  }
  // Every transaction announced in the last stretch, by `tx`.
  const lostTx = [];
  for (const h of rec.txs) {
    const want = announcedTx.get(h);
    let t;
    try { t = await c.call({ command: 'tx', transaction: h }); }
    catch (e) {
      lost.add(h);
      lostTx.push(`${h} (ledger ${want.ledger}: ${/txnNotFound/.test(e.message) ? 'txnNotFound' : e.message})`);
      continue;
    }
    if (t.validated !== true) issues.push(`tx ${h}: validated ${t.validated} (announced in ledger ${want.ledger})`);
    if (t.ledger_index !== want.ledger) issues.push(`tx ${h}: ledger_index ${t.ledger_index}, announced ${want.ledger}`);
    const res = t.meta && t.meta.TransactionResult;
    if (res !== want.result) issues.push(`tx ${h}: result ${res}, announced ${want.result}`);
  }
  if (lostTx.length) issues.push(`${lostTx.length} of ${rec.txs.length} transactions announced before the kill are lost: ${some(lostTx, 5)}`);
  // One snapshot: the state of the last closed ledger, and the history of
  // the genesis account (every pool transaction) up to that ledger.
  const L = (await c.call({ command: 'ledger', ledger_index: 'validated', accounts: true })).ledger;
  const li = parseInt(L.ledger_index, 10);
  const hist = [];
  let marker;
  for (;;) {
    const req = { command: 'account_tx', account: GENESIS, ledger_index_min: -1, ledger_index_max: li, limit: 1000, forward: true };
    if (marker) req.marker = marker;
    const r = await c.call(req);
    for (const e of r.transactions) hist.push(e);
    if (!r.marker) break;
    marker = r.marker;
  }
  const inHist = new Map();
  const bySeq = new Map();
  for (const e of hist) {
    const h = e.tx.hash;
    if (inHist.has(h)) { issues.push(`account_tx lists ${h} twice`); continue; }
    inHist.set(h, e);
    const it = pool.byHash.get(h);
    if (!it) { issues.push(`account_tx lists ${h}, not one of the test's payments`); continue; }
    if (bySeq.has(it.seq)) issues.push(`two transactions with Sequence ${it.seq} in the history`);
    bySeq.set(it.seq, it);
    const res = e.meta && e.meta.TransactionResult;
    const want = it.kind === 'tec' ? 'tecNO_DST_INSUF_SWT' : 'tesSUCCESS';
    if (res !== want) issues.push(`Sequence ${it.seq} (${h}) has result ${res}, expected ${want}`);
  }
  const n = hist.length;
  for (let s = 1; s <= n; s++) if (!bySeq.has(s)) { issues.push(`history has ${n} transactions but no Sequence ${s}`); break; }
  const lostHist = [];
  for (const [h, a] of announcedTx) {
    const e = inHist.get(h);
    if (!e) {
      if (!lost.has(h)) lostHist.push(`${h} (ledger ${a.ledger}, round ${a.round})`);
      lost.add(h);
      continue;
    }
    const at = e.tx.ledger_index !== undefined ? e.tx.ledger_index : e.tx.inLedger;
    if (at !== a.ledger) issues.push(`account_tx puts ${h} in ledger ${at}, announced ${a.ledger}`);
  }
  if (lostHist.length) issues.push(`${lostHist.length} announced transactions missing from account_tx: ${some(lostHist, 5)}`);
  // Expected balances from the history.
  const expect = new Map([[GENESIS, TOTAL]]);
  for (const e of hist) {
    const it = pool.byHash.get(e.tx.hash);
    if (!it) continue;
    expect.set(GENESIS, expect.get(GENESIS) - FEE);
    if (e.meta && e.meta.TransactionResult === 'tesSUCCESS') {
      const d = BigInt(e.meta.delivered_amount !== undefined ? e.meta.delivered_amount : e.tx.Amount);
      if (d !== it.amount) issues.push(`${e.tx.hash}: delivered ${d}, sent ${it.amount}`);
      expect.set(GENESIS, expect.get(GENESIS) - d);
      expect.set(it.dest, (expect.get(it.dest) || 0n) + d);
    }
  }
  // The state.
  const total = BigInt(L.total_coins);
  let sum = 0n;
  const seen = new Set();
  for (const o of L.accountState || []) {
    if (o.LedgerEntryType !== 'AccountRoot') continue;
    const bal = BigInt(o.Balance);
    sum += bal;
    seen.add(o.Account);
    if (o.Account === GENESIS && o.Sequence !== n + 1) {
      issues.push(`genesis Sequence ${o.Sequence} in ledger ${li}, but the history holds ${n} of its transactions`);
    }
    const want = expect.get(o.Account);
    if (want === undefined) issues.push(`account ${o.Account} (balance ${bal}) exists but the history never funded it`);
    else if (want !== bal) issues.push(`account ${o.Account}: balance ${bal}, history says ${want}`);
  }
  for (const [a, v] of expect) if (!seen.has(a)) issues.push(`account ${a} missing from ledger ${li} (history says balance ${v})`);
  if (sum !== total) issues.push(`ledger ${li}: balances add up to ${sum}, total_coins is ${total} (diff ${total - sum})`);
  const wantTotal = TOTAL - FEE * BigInt(n);
  if (total !== wantTotal) issues.push(`ledger ${li}: total_coins ${total}, expected ${TOTAL} - ${FEE} x ${n} = ${wantTotal}`);
  // Report a loss once: later rounds check against what the node now has.
  for (const h of lost) announcedTx.delete(h);
  for (const idx of goneLedgers) announcedLedgers.delete(idx);
  if (lc.ledger_index < lastAnnounced) lastAnnounced = lc.ledger_index;
  return { issues, included: n, ledger: li, lost: lost.size };
}

// ---------------------------------------------------------------- stream

// Submits pool payments from `fromSeq` at `rate` per second until stop().
function streamer(c, pool, fromSeq, rate, rec) {
  let seq = fromSeq, outstanding = 0, stopped = false, credit = 0;
  const tickMs = 10;
  const timer = setInterval(() => {
    if (stopped || c.closed) return;
    credit += rate * tickMs / 1000;
    while (credit >= 1 && outstanding < 50 && seq <= pool.items.length) {
      credit -= 1;
      const it = pool.items[seq - 1];
      seq++;
      outstanding++;
      rec.submitted++;
      c.send({ command: 'submit', tx_blob: it.blob }).then((r) => {
        outstanding--;
        const er = r.result && r.result.engine_result;
        const want = it.kind === 'tec' ? 'tecNO_DST_INSUF_SWT' : 'tesSUCCESS';
        if (r.status !== 'success' || er !== want) {
          rec.issues.push(`submit Sequence ${it.seq}: ${r.status} ${er || r.error} ${r.error_message || r.error_exception || ''} (expected ${want})`);
        }
      }, () => { outstanding--; });
    }
    if (seq > pool.items.length) rec.exhausted = true;
    if (credit > 1) credit = 1;
  }, tickMs);
  return () => { stopped = true; clearInterval(timer); };
}

// ------------------------------------------------------------------ main

// What the current jt-node process wrote before dying on its own: the
// sanitizer or error lines and the first frames of the stack.
function deathReport(n) {
  let text = '';
  try { text = fs.readFileSync(LOG, 'utf8'); } catch (e) { /* no log */ }
  const last = text.lastIndexOf('\n--- ');
  const lines = (last >= 0 ? text.slice(last + 1) : text).split('\n');
  const out = [`jt-node died by itself: exit code ${n.exit.code}, signal ${n.exit.signal}; its stderr:`];
  const i = lines.findIndex((l) => /runtime error|Sanitizer|ERROR|FATAL|abort|assert/i.test(l));
  if (i >= 0) out.push(...lines.slice(i, i + 8));
  else out.push(...lines.slice(-10));
  return out;
}

async function main() {
  console.log(`# seed ${SEED} (JT_SEED=${SEED} reuses these kill delays)`);
  const poolSize = Math.ceil(ROUNDS * (DELAY_MAX / 1000) * RATE * 0.75) + 100;
  const t0 = Date.now();
  const pool = await makePool(poolSize);
  console.log(`# signed ${poolSize} payments with ${pool.how} in ${Date.now() - t0} ms`);

  let n;
  try { n = await startNode('first start'); }
  catch (e) { notOk('jt-node starts', [e.message, logTail(20)]); return; }
  let kills = 0, selfDeaths = 0, emptyRounds = 0, silentBefore = 0;
  for (let round = 1; round <= ROUNDS; round++) {
    const name = `round ${round}`;
    const rec = { ledgers: [], txs: [], issues: [], submitted: 0, exhausted: false, lastClosedAt: 0, onClosed: null };
    if (Date.now() > DEADLINE) { notOk(`${name}: out of time`, []); break; }
    if (n.exited) { // died on its own after the last checks (already reported)
      try { n = await startNode(`round ${round}: start after jt-node died by itself`); }
      catch (e) { notOk(`${name}: jt-node starts again`, [e.message, logTail(20)]); return; }
    }
    // Connect, subscribe, stream.
    const c = new Client(`ws://127.0.0.1:${n.port}/`, recorder(round, rec));
    let stop = () => {};
    let delay = 0, fromSeq = 0, aimed = '';
    try {
      await c.open();
      await c.call({ command: 'subscribe', streams: ['ledger', 'transactions'] });
      const ai = await c.call({ command: 'account_info', account: GENESIS, ledger_index: 'current' });
      fromSeq = ai.account_data.Sequence;
      const left = pool.items.length - fromSeq + 1;
      const rate = Math.max(1, Math.min(RATE, Math.floor(left / (ROUNDS - round + 1))));
      stop = streamer(c, pool, fromSeq, rate, rec);
      const started = Date.now();
      delay = DELAY_MIN + Math.floor(rand() * (DELAY_MAX - DELAY_MIN + 1));
      await sleep(delay);
      if (round % 2 === 0) {
        // Aim at the next ledger close: wait for an announcement, then kill
        // a few ms before the following one is due, when the node is likely
        // applying, hashing or committing it.
        const early = Math.floor(rand() * 9);
        await Promise.race([new Promise((r) => { rec.onClosed = r; }), sleep(3 * CLOSE_MS)]);
        rec.onClosed = null;
        await sleep(Math.max(0, CLOSE_MS - early - (Date.now() - rec.lastClosedAt)));
        aimed = `, ${early} ms before a due close`;
      }
      delay = Date.now() - started;
    } catch (e) {
      await Promise.race([waitExit(n), sleep(1000)]);
      if (!n.exited) rec.issues.push('before the kill: ' + e.message);
    }
    stop();
    let how;
    if (n.exited && !n.killed) {
      selfDeaths++;
      rec.issues.push(...deathReport(n));
      how = `jt-node died by itself while the payments streamed`;
    } else {
      await killNode(n);
      kills++;
      how = `kill -9 at ${delay} ms${aimed}`;
    }
    await c.close(); // every message the node had sent is now recorded
    const announcedNow = rec.txs.length;
    const lastBefore = lastAnnounced;
    if (announcedNow === 0) emptyRounds++;

    // Verify the store.
    const v = await run(NODE, ['verify', '--data', DATA]);
    const verifyOk = v.code === 0 && /^ok /.test(v.stdout);
    if (!verifyOk) {
      rec.issues.push(`jt-node verify --data DIR: exit ${v.code}${v.signal ? ' signal ' + v.signal : ''}`,
        'stdout: ' + v.stdout.trim().slice(0, 2000), 'stderr: ' + v.stderr.trim().slice(0, 2000));
      // Keep a copy of the broken store for whoever investigates.
      try { fs.cpSync(DATA, path.join(WORK, `failed-round-${round}`), { recursive: true }); } catch (e) { /* best effort */ }
    }

    // Restart and check.
    try { n = await startNode(`round ${round}: restart`); }
    catch (e) { notOk(`${name}: jt-node restarts after ${how}`, rec.issues.concat([e.message, logTail(30)])); return; }
    let res = null;
    const c2 = new Client(`ws://127.0.0.1:${n.port}/`, null);
    try {
      await c2.open();
      res = await checkAfterRestart(c2, pool, round, rec);
      rec.issues.push(...res.issues);
    } catch (e) {
      await Promise.race([waitExit(n), sleep(1000)]);
      rec.issues.push('checking after the restart: ' + e.message);
    }
    await c2.close();
    if (n.exited && !n.killed) {
      selfDeaths++;
      rec.issues.push('after the restart:', ...deathReport(n));
    }
    const what = `${how}; ${rec.submitted} submitted from Sequence ${fromSeq}, ${announcedNow} announced in ${rec.ledgers.length} ledgers (last ${lastBefore})`;
    if (rec.issues.length === 0 && verifyOk) {
      let kept = 0;
      for (const h of announcedTx.keys()) if (pool.byHash.has(h)) kept++;
      const silent = res.included - kept; // durable, but the kill cut the announcement
      ok(`${name}: ${what}; verify ok; all kept; ${res.included} included` +
        (silent > silentBefore ? ` (${silent - silentBefore} closed but unannounced)` : '') + '; balances add up');
      silentBefore = silent;
    } else {
      notOk(`${name}: ${what}`, rec.issues.slice(0, 40).concat(rec.issues.length > 40 ? [`... ${rec.issues.length} issues`] : []));
    }
    if (rec.exhausted) console.log(`# round ${round}: the payment pool ran out`);
  }
  // Leave the node as we found it: stopped.
  if (node && !node.exited) {
    try { process.kill(node.proc.pid, 'SIGTERM'); } catch (e) { /* gone */ }
    const t = setTimeout(() => { try { process.kill(node.proc.pid, 'SIGKILL'); } catch (e) { /* gone */ } }, 5000);
    await waitExit(node);
    clearTimeout(t);
  }
  const name = `crash summary: ${kills} kills, ${selfDeaths} deaths on its own, ${announcedTx.size} transactions in ${announcedLedgers.size} ledgers announced and kept, ${failures} failed rounds`;
  const thin = announcedTx.size < ROUNDS * 5 || emptyRounds > ROUNDS / 4;
  if (failures === 0 && !thin && kills === ROUNDS) ok(name);
  else notOk(name, thin ? [`the stream was too thin to test anything: ${emptyRounds} rounds announced no transaction`] : []);
}

// ---------------------------------------------------------------- fill mode

// The part of the node log written by the process started as `label`.
function logOf(label) {
  let text = '';
  try { text = fs.readFileSync(LOG, 'utf8'); } catch (e) { return ''; }
  const at = text.lastIndexOf(`--- ${label}\n`);
  if (at < 0) return '';
  const end = text.indexOf('\n--- ', at + 1);
  return text.slice(at, end < 0 ? undefined : end);
}

async function fillMain() {
  const recover = process.env.JT_FILL_RECOVER || 'map';
  const store = recover === 'map';
  const full = store ? 'store full' : 'disk full';
  const nPay = parseInt(process.env.JT_FILL_PAYMENTS || '2500', 10);
  const t0 = Date.now();
  // Runs on fresh data directories may share one pool (JT_FILL_POOL names
  // its file): every run starts from the same genesis.
  const poolFile = process.env.JT_FILL_POOL;
  let pool;
  if (poolFile && fs.existsSync(poolFile)) {
    const items = JSON.parse(fs.readFileSync(poolFile, 'utf8'), (k, v) => (k === 'amount' ? BigInt(v) : v));
    pool = { items, byHash: new Map(items.map((it) => [it.hash, it])), how: `the pool in ${poolFile}` };
    console.log(`# ${items.length} payments signed earlier, from ${poolFile}`);
  } else {
    pool = await makePool(nPay);
    console.log(`# signed ${nPay} payments with ${pool.how} in ${Date.now() - t0} ms`);
    if (poolFile) fs.writeFileSync(poolFile, JSON.stringify(pool.items, (k, v) => (typeof v === 'bigint' ? String(v) : v)));
  }

  // Fill: stream until the node stops by itself.
  let n;
  try { n = await startNode('fill'); }
  catch (e) { notOk('jt-node starts', [e.message, logTail(20)]); return; }
  const rec = { ledgers: [], txs: [], issues: [], submitted: 0, exhausted: false, lastClosedAt: 0, onClosed: null };
  const c = new Client(`ws://127.0.0.1:${n.port}/`, recorder(1, rec));
  const started = Date.now();
  let stop = () => {};
  try {
    await c.open();
    await c.call({ command: 'subscribe', streams: ['ledger', 'transactions'] });
    stop = streamer(c, pool, 1, RATE, rec);
  } catch (e) {
    rec.issues.push('streaming: ' + e.message);
  }
  const FILL_MS = 40000;
  while (!n.exited && !rec.exhausted && Date.now() - started < FILL_MS) await sleep(50);
  await Promise.race([waitExit(n), sleep(rec.exhausted ? 3000 : 0)]);
  stop();
  await c.close();
  const ms = Date.now() - started;
  if (!n.exited) {
    notOk(`jt-node stops when the ${store ? 'store' : 'disk'} is full`,
      [`still running after ${ms} ms and ${rec.submitted} payments${rec.exhausted ? ' (the pool ran out: raise JT_FILL_PAYMENTS)' : ''}`, logTail(10)]);
    await killNode(n);
    return;
  }
  const log = logOf('fill');
  const fatal = (log.match(/^jt-node event=fatal .*$/m) || [''])[0];
  const where = DATA; // the store is DATA/ledger
  const msgIssues = [];
  if (n.exit.signal !== null || n.exit.code === 0) msgIssues.push(`exit code ${n.exit.code}, signal ${n.exit.signal}`);
  if (!fatal.includes(full)) msgIssues.push(`the fatal line does not say "${full}": ${fatal || '(none)'}`);
  if (!fatal.includes(where)) msgIssues.push(`the fatal line does not name ${where}`);
  if (store && !fatal.includes('store_map_size')) msgIssues.push('the fatal line does not name store_map_size');
  if (!store && !/\d+ bytes free on /.test(fatal)) msgIssues.push('the fatal line does not say how much space is free');
  if (/runtime error|Sanitizer/.test(log)) msgIssues.push(...deathReport(n));
  if (msgIssues.length) notOk(`jt-node stops when the ${store ? 'store' : 'disk'} is full`, msgIssues.concat([logTail(10)]));
  else ok(`jt-node stops when the ${store ? 'store' : 'disk'} is full: exit ${n.exit.code} after ${ms} ms, "${full}" named with the directory and what to do`);
  console.log(`#   ${fatal}`);
  const lastBefore = lastAnnounced;
  console.log(`# ledgers closed before the stop: ${rec.ledgers.length} (last ${lastBefore}); transactions validated before the stop: ${rec.txs.length} of ${rec.submitted} submitted`);

  // Started again before anything is done, it must not pretend: it either
  // refuses at once saying the same, or runs (the store reuses free pages).
  try {
    const again = await startNode('again, still full').catch((e) => e);
    if (again instanceof Error) {
      const l = logOf('again, still full');
      if (l.includes(full)) ok(`started again while full, jt-node refuses and says "${full}"`);
      else notOk('started again while full, jt-node says why it cannot start', [l.trim().split('\n').slice(-5).join('\n')]);
    } else {
      await sleep(300);
      if (again.exited && !logOf('again, still full').includes(full)) notOk('started again while full, jt-node says why it stops', [logTail(5)]);
      else ok('started again while full, jt-node ' + (again.exited ? `stops saying "${full}"` : 'runs (no write needed room yet)'));
      if (!again.exited) {
        try { process.kill(again.proc.pid, 'SIGTERM'); } catch (e) { /* gone */ }
        await waitExit(again);
      }
    }
  } catch (e) { notOk('started again while full', [e.message]); }

  // Make room, as the operator would.
  if (store) {
    const conf = path.join(DATA, 'jt-node.conf');
    fs.writeFileSync(conf, fs.readFileSync(conf, 'utf8').replace(/^store_map_size = \d+$/m, 'store_map_size = 0'));
  } else {
    const dest = recover.slice('move:'.length);
    fs.cpSync(DATA, dest, { recursive: true });
    DATA = dest;
  }
  const v = await run(NODE, ['verify', '--data', DATA]);
  if (v.code === 0 && /^ok /.test(v.stdout)) ok(`jt-node verify after ${store ? 'raising store_map_size' : 'moving the data directory'}: ${v.stdout.trim()}`);
  else notOk('jt-node verify after making room', [`exit ${v.code}`, v.stdout.trim(), v.stderr.trim()]);

  // Restart: nothing announced is lost, and the node goes on.
  try { n = await startNode('after making room'); }
  catch (e) { notOk('jt-node restarts after making room', [e.message, logTail(20)]); return; }
  const rec2 = { ledgers: [], txs: [], issues: [], submitted: 0, exhausted: false, lastClosedAt: 0, onClosed: null };
  const c2 = new Client(`ws://127.0.0.1:${n.port}/`, recorder(2, rec2));
  let res = null;
  try {
    await c2.open();
    res = await checkAfterRestart(c2, pool, 1, rec);
    const ai = await c2.call({ command: 'account_info', account: GENESIS, ledger_index: 'current' });
    await c2.call({ command: 'subscribe', streams: ['ledger', 'transactions'] });
    const stop2 = streamer(c2, pool, ai.account_data.Sequence, 50, rec2);
    const until = Date.now() + 5000;
    while (rec2.txs.length < 10 && Date.now() < until && !n.exited) await sleep(50);
    stop2();
  } catch (e) {
    rec.issues.push('checking after the restart: ' + e.message);
  }
  await c2.close();
  const issues = rec.issues.concat(res ? res.issues : []);
  if (issues.length === 0) ok(`after the restart: all ${rec.txs.length} validated transactions kept, ${res.included} included; balances add up`);
  else notOk('after the restart: nothing validated is lost', issues.slice(0, 40));
  if (rec2.txs.length >= 10) ok(`jt-node validates payments again: ${rec2.txs.length} in ${rec2.ledgers.length} ledgers`);
  else notOk('jt-node validates payments again', [`${rec2.txs.length} validated in 5 s`, logTail(10)]);
  console.log(`# figures: ledgers closed ${rec.ledgers.length}; transactions validated before the stop ${rec.txs.length}; lost: ${res ? res.lost : '?'}`);
  if (!n.exited) {
    try { process.kill(n.proc.pid, 'SIGTERM'); } catch (e) { /* gone */ }
    await waitExit(n);
  }
}

const LIMIT_MS = MODE === 'fill' ? 80000 : 175000;
const watchdog = setTimeout(() => {
  notOk('test finished in time', [`still running after ${LIMIT_MS / 1000} s`]);
  if (node && !node.exited) try { process.kill(node.proc.pid, 'SIGKILL'); } catch (e) { /* gone */ }
  process.exit(1);
}, LIMIT_MS);
process.on('exit', () => {
  if (node && !node.exited) try { process.kill(node.proc.pid, 'SIGKILL'); } catch (e) { /* gone */ }
});
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(sig, () => process.exit(1));
(MODE === 'fill' ? fillMain : main)().then(() => {
  clearTimeout(watchdog);
  process.exit(failures ? 1 : 0);
}, (e) => {
  notOk(`${MODE} test ran to the end`, [e.stack || e.message]);
  process.exit(1);
});
