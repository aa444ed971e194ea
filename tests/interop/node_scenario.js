// node_scenario.js — acceptance scenario: an unmodified Jingtum JS library against jt-node.
//
//   node node_scenario.js jingtum|swtc ws://127.0.0.1:PORT
//   JT_SCENARIO_TRACE=FILE   write every WebSocket frame sent and received to FILE
//   JT_SCENARIO_DEADLINE=S   give up after S seconds (default 75)
//   JT_SCENARIO_NO_ACCEPT=1  never send ledger_accept: rely on the node's close timer
//
// Uses only the library's public API: Remote (local signing), Wallet, build*Tx, setSecret,
// setSequence, submit, request*, the 'transactions' / 'ledger_closed' events and the Account
// stub. ledger_accept (PROTOCOL.md §6.9) goes through the library's generic Request; if the node
// refuses it the scenario waits for the --close-ms timer instead.
//
// Prints one "ok NAME" / "not ok NAME: detail" line per step (TAP-like, counted by
// scripts/run-tests.sh); details of a failure follow as "#   " lines. Every step always prints
// exactly one line, so a broken node shows up as a stable number of failures.
'use strict';

const fs = require('fs');

const LIBNAME = process.argv[2];
const URL = process.argv[3];
if (!['jingtum', 'swtc'].includes(LIBNAME) || !URL) {
  process.stderr.write('usage: node node_scenario.js jingtum|swtc ws://HOST:PORT\n');
  process.exit(2);
}
const TAG = LIBNAME === 'jingtum' ? 'jingtum-lib' : 'swtc-lib';
const DEADLINE_S = Number(process.env.JT_SCENARIO_DEADLINE || 75);
const T0 = Date.now();

const out = process.stdout.write.bind(process.stdout);
const say = (s) => out(s + '\n');
// jingtum-lib prints "Get tx type: …" / "Handle input json format currency" on every
// serialization: silence console.log (our own output goes through process.stdout.write).
console.log = () => {};

const lib = LIBNAME === 'jingtum' ? require('jingtum-lib') : require('swtc-lib');
const { Remote, Request, Wallet } = lib;

// ---------------------------------------------------------------- tracing
let traceFd = null;
if (process.env.JT_SCENARIO_TRACE) {
  try { traceFd = fs.openSync(process.env.JT_SCENARIO_TRACE, 'w'); } catch (e) { traceFd = null; }
}
const trace = (dir, s) => {
  if (traceFd === null) return;
  const t = ((Date.now() - T0) / 1000).toFixed(3);
  try { fs.writeSync(traceFd, t + ' ' + dir + ' ' + s + '\n'); } catch (e) { /* ignore */ }
};

// A library throws from inside its WebSocket message handler when a response lacks a field it
// reads (jingtum-lib lets it escape; swtc-lib swallows it). Keep going and report it.
const uncaught = [];
process.on('uncaughtException', (e) => {
  const msg = (e && e.stack ? e.stack.split('\n').slice(0, 3).join(' | ') : String(e));
  uncaught.push(msg);
  trace('!!', 'uncaught exception: ' + msg);
});
process.on('unhandledRejection', (e) => { uncaught.push('unhandled rejection: ' + String(e)); });

// ---------------------------------------------------------------- helpers
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const show = (v) => {
  if (typeof v === 'bigint') return v.toString();
  let s;
  try { s = JSON.stringify(v, (k, x) => (typeof x === 'bigint' ? x.toString() : x)); } catch (e) { s = String(v); }
  if (s === undefined) s = String(v);
  return s.length > 600 ? s.slice(0, 600) + '…' : s;
};
const errText = (e) => (e instanceof Error ? e.message : typeof e === 'string' ? e : show(e));
const HEX64 = /^[0-9A-F]{64}$/;

class StepFail extends Error {}

// Collects mismatches of one step.
class Checks {
  constructor() { this.fails = []; }
  eq(what, actual, expected) {
    if (actual !== expected) this.fails.push(what + ': expected ' + show(expected) + ', got ' + show(actual));
  }
  num(what, actual, expected) { // numeric value given as string or number
    const n = Number(actual);
    if (actual === undefined || actual === null || Number.isNaN(n) || n !== expected) {
      this.fails.push(what + ': expected ' + expected + ', got ' + show(actual));
    }
  }
  ok(what, cond, detail) { if (!cond) this.fails.push(what + (detail !== undefined ? ': ' + detail : '')); }
  amount(what, actual, value, currency, issuer) {
    if (!actual || typeof actual !== 'object') {
      this.fails.push(what + ': expected amount ' + value + ' ' + currency + ', got ' + show(actual));
      return;
    }
    const good = Number(actual.value) === value && actual.currency === currency &&
      (issuer === undefined || actual.issuer === issuer);
    if (!good) {
      this.fails.push(what + ': expected ' + show({ value: String(value), currency, issuer }) + ', got ' + show(actual));
    }
  }
  // stop the step now (later checks depend on this one)
  must(what, cond, detail) { if (!cond) { this.ok(what, false, detail); throw new StepFail(); } }
}

// ---------------------------------------------------------------- library calls with timeouts
let remote = null;

// req.submit(cb) of a Request; resolves with the (filtered) result, rejects with the error text.
function call(req, label, ms) {
  return new Promise((resolve, reject) => {
    let done = false;
    const timer = setTimeout(() => {
      if (done) return;
      done = true;
      const extra = uncaught.length ? ' (library threw: ' + uncaught[uncaught.length - 1] + ')'
        : LIBNAME === 'swtc' ? ' (swtc-lib silently drops a response whose handling throws, e.g. a field its filter reads is missing)' : '';
      reject(new Error(label + ': no answer within ' + (ms || 8000) + ' ms' + extra));
    }, ms || 8000);
    try {
      req.submit((err, res) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        if (err) reject(new Error(label + ': ' + errText(err)));
        else resolve(res);
      });
    } catch (e) {
      if (!done) { done = true; clearTimeout(timer); reject(new Error(label + ': threw ' + errText(e))); }
    }
  });
}

const swt = (v) => ({ value: String(v), currency: 'SWT', issuer: '' });
const CUR = 'CNY';
let ISSUER = null;
const cny = (v) => ({ value: String(v), currency: CUR, issuer: ISSUER.address });

function payment(from, to, amount, sequence) {
  const tx = remote.buildPaymentTx({ account: from.address, to: to, amount: amount });
  tx.setSecret(from.secret);
  if (sequence !== undefined) tx.setSequence(sequence);
  return tx;
}

function trustLine(holder, limit) {
  const tx = remote.buildRelationTx({ type: 'trust', account: holder.address, limit: limit });
  tx.setSecret(holder.secret);
  return tx;
}

// ---------------------------------------------------------------- events
const ledgerEvents = [];      // 'ledger_closed' payloads
const txEvents = new Map();   // hash -> 'transactions' payload
const stubEvents = [];        // Account stub callbacks: processed txs for holder B

function onTransactions(data) {
  try {
    const h = data && data.transaction && data.transaction.hash;
    if (h) txEvents.set(h, data);
  } catch (e) { /* never throw into the library */ }
}
function onLedgerClosed(data) { ledgerEvents.push(data); }

// ---------------------------------------------------------------- closing ledgers
let acceptState = process.env.JT_SCENARIO_NO_ACCEPT === '1' ? 'refused: not used (JT_SCENARIO_NO_ACCEPT=1)'
  : 'untried';   // 'works' | 'refused: …' | 'unanswered'
let acceptTimeouts = 0;

// Returns true when the node closed a ledger on request.
async function ledgerAccept() {
  if (acceptState.startsWith('refused') || acceptState === 'unanswered') return false;
  try {
    await call(new Request(remote, 'ledger_accept'), 'ledger_accept', 4000);
    acceptState = 'works';
    return true;
  } catch (e) {
    const msg = errText(e);
    if (/no answer within/.test(msg)) {
      if (++acceptTimeouts < 2) return false;
      acceptState = 'unanswered';
    } else acceptState = 'refused: ' + msg;
    say('# ' + TAG + ': ledger_accept ' + (acceptState === 'unanswered' ? 'unanswered twice' : 'failed') +
      ' (' + msg + '); waiting for the close timer instead');
    return false;
  }
}

// Wait until the transaction `hash` is in a validated ledger: the 'transactions' event, or
// (if the stream is broken) requestTx saying validated. Closes ledgers with ledger_accept.
// Resolves with {result, via, data}.
async function settle(hash, label, ms) {
  const limit = Date.now() + (ms || 12000);
  let lastTx = null;
  for (;;) {
    if (txEvents.has(hash)) {
      const d = txEvents.get(hash);
      return { result: (d.meta && d.meta.TransactionResult) || d.engine_result, via: 'event', data: d };
    }
    if (Date.now() > limit) break;
    if (!(await ledgerAccept())) await sleep(400);
    if (txEvents.has(hash)) continue;
    try {
      const r = await call(remote.requestTx({ hash: hash }), 'tx', 3000);
      lastTx = r;
      if (r && r.validated === true && r.meta) {
        await sleep(200); // give the stream message a chance to arrive first
        if (txEvents.has(hash)) continue;
        return { result: r.meta.TransactionResult, via: 'tx', data: r };
      }
    } catch (e) { lastTx = errText(e); }
    await sleep(150);
  }
  throw new Error(label + ' (' + hash + ') not validated within ' + ((ms || 12000) / 1000) +
    ' s; no transactions event; last tx answer: ' + show(lastTx));
}

// swtc-lib 2.0.9 with @swtc/transaction 1.1.3: Transaction.submit(callback) throws "please use
// .submitPromise() for non-ws library" (it tests remote.hasOwnProperty('_submit'), a prototype
// method), so with swtc-lib the scenario submits through submitPromise(), which works.
function submitTx(tx, label, ms) {
  if (LIBNAME === 'jingtum') return call(tx, label, ms);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(label + ': no answer within ' + ms + ' ms')), ms);
    tx.submitPromise().then((r) => { clearTimeout(timer); resolve(r); },
      (e) => { clearTimeout(timer); reject(new Error(label + ': ' + errText(e))); });
  });
}

// Submit; require a tx_json.hash in the answer; return {submit, hash}.
async function submit(tx, label) {
  const r = await submitTx(tx, 'submit ' + label, 8000);
  const hash = r && r.tx_json && r.tx_json.hash;
  if (typeof hash !== 'string' || !HEX64.test(hash)) {
    throw new Error('submit ' + label + ': answer has no tx_json.hash (64 upper-case hex): ' + show(r));
  }
  return { submit: r, hash: hash };
}

async function submitSettled(tx, label, c, wantSubmit, wantFinal) {
  const s = await submit(tx, label);
  c.eq(label + ': submit engine_result', s.submit.engine_result, wantSubmit);
  // tel/tem/tef results are never included in a ledger: do not wait for one
  if (/^(tel|tem|tef)/.test(String(s.submit.engine_result))) {
    throw new StepFail(label + ' not applied: ' + show({ engine_result: s.submit.engine_result,
      engine_result_message: s.submit.engine_result_message }));
  }
  const v = await settle(s.hash, label);
  c.eq(label + ': validated TransactionResult', v.result, wantFinal);
  s.final = v;
  return s;
}

// ---------------------------------------------------------------- scenario state
const G = { address: 'jHb9CJAWyB4jr91VRWn96DkukG4bwdtyTh', secret: 'snoPBjXtMeMyMHUVTgbuqAfg1SUTb' };
const newWallet = () => { const w = Wallet.generate(); return { address: w.address, secret: w.secret }; };
const A = newWallet();          // holder A
const B = newWallet();          // holder B
ISSUER = newWallet();           // issuer of CNY
const I = ISSUER;
const NOBODY = newWallet();     // never funded
const S = {};                   // results shared between steps

const DROPS = 1000000n;
const FEE = 10000n;

// ---------------------------------------------------------------- steps
const steps = [];
const step = (name, needs, fn) => steps.push({ name, needs, fn });

step('connect: subscribe result, server_status full', [], async (c) => {
  const res = await new Promise((resolve, reject) => {
    let done = false;
    const timer = setTimeout(() => { if (!done) { done = true; reject(new Error('connect: no subscribe answer within 8 s')); } }, 8000);
    remote.connect((err, result) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      if (err) reject(new Error('connect: ' + errText(err)));
      else resolve(result);
    });
  });
  c.must('subscribe result is an object', res && typeof res === 'object', show(res));
  c.eq('server_status', res.server_status, 'full');
  c.eq('remote.isConnected()', remote.isConnected(), true);
  c.eq('fee_base', res.fee_base, 10);
  c.eq('reserve_base', res.reserve_base, 10000000);
  c.eq('reserve_inc', res.reserve_inc, 1000000);
  c.ok('ledger_index is a number', typeof res.ledger_index === 'number', show(res.ledger_index));
  c.ok('ledger_hash is 64 hex', HEX64.test(res.ledger_hash || ''), show(res.ledger_hash));
  c.ok('validated_ledgers present', typeof res.validated_ledgers === 'string', show(res.validated_ledgers));
  // Listeners added after connect make the library send subscribe {"streams":["transactions"]}
  // and {"streams":["ledger"]} again, as applications do.
  remote.on('transactions', onTransactions);
  remote.on('ledger_closed', onLedgerClosed);
  if (LIBNAME === 'jingtum') {
    // swtc-lib's Account stub never calls back (it indexes accounts by address in its loop).
    const stub = remote.createAccountStub();
    stub.on(B.address, (t) => { stubEvents.push(t); });
  }
});

step('fund: genesis pays 1000 SWT to three new wallets, each validated', ['connect'], async (c) => {
  const info = await call(remote.requestAccountInfo({ account: G.address }), 'account_info genesis');
  c.must('genesis account_data', info && info.account_data, show(info));
  S.g0 = { balance: BigInt(info.account_data.Balance), seq: info.account_data.Sequence };
  c.must('genesis Sequence is a number', typeof S.g0.seq === 'number', show(info.account_data.Sequence));
  // Three payments in one open ledger with explicit sequences (the library would otherwise
  // read the validated Sequence and reuse it).
  const subs = [];
  for (const [i, w] of [A, B, I].entries()) {
    subs.push(await submit(payment(G, w.address, swt(1000), S.g0.seq + i), 'fund #' + i));
  }
  for (const [i, s] of subs.entries()) c.eq('fund #' + i + ': submit engine_result', s.submit.engine_result, 'tesSUCCESS');
  S.fundHashes = subs.map((s) => s.hash);
  if (subs.some((s) => /^(tel|tem|tef)/.test(String(s.submit.engine_result)))) throw new StepFail();
  for (const [i, s] of subs.entries()) {
    const v = await settle(s.hash, 'fund #' + i);
    c.eq('fund #' + i + ': validated TransactionResult', v.result, 'tesSUCCESS');
  }
});

step('trust: A and B trust the issuer for 10000 CNY (buildRelationTx type trust)', ['fund'], async (c) => {
  const [ta, tb] = await Promise.all([
    submitSettled(trustLine(A, cny(10000)), 'TrustSet A', c, 'tesSUCCESS', 'tesSUCCESS'),
    submitSettled(trustLine(B, cny(10000)), 'TrustSet B', c, 'tesSUCCESS', 'tesSUCCESS'),
  ]);
  S.trustHashes = [ta.hash, tb.hash];
});

step('issue: issuer pays A 500 CNY', ['trust'], async (c) => {
  const s = await submitSettled(payment(I, A.address, cny(500)), 'issue', c, 'tesSUCCESS', 'tesSUCCESS');
  S.issueHash = s.hash;
});

step('transfer: A pays B 120 CNY through the issuer', ['issue'], async (c) => {
  const s = await submitSettled(payment(A, B.address, cny(120)), 'A->B', c, 'tesSUCCESS', 'tesSUCCESS');
  S.abHash = s.hash;
  S.abFinal = s.final;
});

step('requestAccountInfo: balances, sequences, owner counts', ['transfer'], async (c) => {
  const want = [
    ['A', A, 1000n * DROPS - 2n * FEE, 3, 1],
    ['B', B, 1000n * DROPS - FEE, 2, 1],
    ['issuer', I, 1000n * DROPS - FEE, 2, 0],
  ];
  for (const [n, w, bal, seq, owners] of want) {
    const r = await call(remote.requestAccountInfo({ account: w.address }), 'account_info ' + n);
    const d = r && r.account_data;
    if (!d) { c.ok(n + ': account_data', false, show(r)); continue; }
    c.eq(n + ': Account', d.Account, w.address);
    c.eq(n + ': Balance', d.Balance, bal.toString());
    c.eq(n + ': Sequence', d.Sequence, seq);
    c.eq(n + ': OwnerCount', d.OwnerCount, owners);
    c.eq(n + ': validated', r.validated, true);
    c.ok(n + ': ledger_index is a number', typeof r.ledger_index === 'number', show(r.ledger_index));
  }
  const g = await call(remote.requestAccountInfo({ account: G.address }), 'account_info genesis');
  const gd = g && g.account_data;
  if (!gd) c.ok('genesis: account_data', false, show(g));
  else {
    c.eq('genesis: Balance', gd.Balance, (S.g0.balance - 3000n * DROPS - 3n * FEE).toString());
    c.eq('genesis: Sequence', gd.Sequence, S.g0.seq + 3);
  }
});

step('requestAccountRelations trust (account_lines): A 380, B 120, issuer -500', ['transfer'], async (c) => {
  const lines = async (w, n, peer) => {
    const opt = { account: w.address, type: 'trust' };
    if (peer) opt.peer = peer;
    const r = await call(remote.requestAccountRelations(opt), 'account_lines ' + n);
    c.eq(n + ': account', r && r.account, w.address);
    return (r && Array.isArray(r.lines)) ? r.lines : (c.ok(n + ': lines array', false, show(r)), []);
  };
  const la = await lines(A, 'A');
  c.eq('A: number of lines', la.length, 1);
  if (la[0]) {
    c.eq('A: line account', la[0].account, I.address);
    c.eq('A: line currency', la[0].currency, CUR);
    c.num('A: line balance', la[0].balance, 380);
    c.num('A: line limit', la[0].limit, 10000);
    c.num('A: line limit_peer', la[0].limit_peer, 0);
  }
  const lb = await lines(B, 'B');
  c.eq('B: number of lines', lb.length, 1);
  if (lb[0]) {
    c.eq('B: line account', lb[0].account, I.address);
    c.num('B: line balance', lb[0].balance, 120);
    c.num('B: line limit', lb[0].limit, 10000);
  }
  const li = await lines(I, 'issuer');
  c.eq('issuer: number of lines', li.length, 2);
  const byPeer = {};
  for (const l of li) byPeer[l.account] = l;
  if (byPeer[A.address]) {
    c.num('issuer: line to A balance', byPeer[A.address].balance, -380);
    c.num('issuer: line to A limit', byPeer[A.address].limit, 0);
    c.num('issuer: line to A limit_peer', byPeer[A.address].limit_peer, 10000);
    c.eq('issuer: line to A currency', byPeer[A.address].currency, CUR);
  } else c.ok('issuer: a line to A', false, show(li));
  if (byPeer[B.address]) c.num('issuer: line to B balance', byPeer[B.address].balance, -120);
  else c.ok('issuer: a line to B', false, show(li));
  const total = li.reduce((s, l) => s + Number(l.balance), 0);
  c.eq('issuer: total balance', total, -500);
  const lp = await lines(I, 'issuer peer=A', A.address);
  c.eq('issuer peer=A: number of lines', lp.length, 1);
  if (lp[0]) c.eq('issuer peer=A: line account', lp[0].account, A.address);
});

const nearNow = (unix) => typeof unix === 'number' && Math.abs(unix - Date.now() / 1000) < 3600;

// Check the library's processed account history against [type, counterparty, amount-check].
function checkHistory(c, n, txs, want) {
  c.eq(n + ': number of transactions', txs.length, want.length);
  for (let i = 0; i < Math.min(txs.length, want.length); i++) {
    const t = txs[i], w = want[i], p = n + ' #' + i + ' (' + w.type + ')';
    c.eq(p + ' type', t.type, w.type);
    if (w.hash) c.eq(p + ' hash', t.hash, w.hash);
    else c.ok(p + ' hash', HEX64.test(t.hash || ''), show(t.hash));
    if (w.counterparty !== undefined) c.eq(p + ' counterparty', t.counterparty, w.counterparty);
    if (w.amount) c.amount(p + ' amount', t.amount, ...w.amount);
    c.eq(p + ' result', t.result, 'tesSUCCESS');
    c.eq(p + ' fee', t.fee, '0.01');
    c.ok(p + ' date (tx date + 946684800) near now', nearNow(t.date), show(t.date));
    if (w.balances) {
      for (const [cur, v] of Object.entries(w.balances)) c.eq(p + ' balances.' + cur, t.balances && t.balances[cur], v);
    }
  }
}

step('requestAccountTx A: sent 120 CNY, received 500 CNY, trusting, received 1000 SWT', ['transfer'], async (c) => {
  const r = await call(remote.requestAccountTx({ account: A.address }), 'account_tx A');
  c.must('A: transactions array', r && Array.isArray(r.transactions), show(r));
  checkHistory(c, 'A', r.transactions, [
    { type: 'sent', hash: S.abHash, counterparty: B.address, amount: [120, CUR, I.address], balances: { CNY: 380, SWT: 999.98 } },
    { type: 'received', hash: S.issueHash, counterparty: I.address, amount: [500, CUR, I.address] },
    { type: 'trusting', hash: S.trustHashes[0], counterparty: I.address, amount: [10000, CUR, I.address] },
    { type: 'received', hash: S.fundHashes[0], counterparty: G.address, amount: [1000, 'SWT', ''] },
  ]);
});

step('requestAccountTx B: received 120 CNY, trusting, received 1000 SWT', ['transfer'], async (c) => {
  const r = await call(remote.requestAccountTx({ account: B.address }), 'account_tx B');
  c.must('B: transactions array', r && Array.isArray(r.transactions), show(r));
  checkHistory(c, 'B', r.transactions, [
    { type: 'received', hash: S.abHash, counterparty: A.address, amount: [120, CUR, I.address], balances: { CNY: 120 } },
    { type: 'trusting', hash: S.trustHashes[1], counterparty: I.address, amount: [10000, CUR, I.address] },
    { type: 'received', hash: S.fundHashes[1], counterparty: G.address, amount: [1000, 'SWT', ''] },
  ]);
});

step('requestAccountTx issuer: A->B (offereffect), sent 500 CNY, trusted x2, received 1000 SWT', ['transfer'], async (c) => {
  const r = await call(remote.requestAccountTx({ account: I.address }), 'account_tx issuer');
  c.must('issuer: transactions array', r && Array.isArray(r.transactions), show(r));
  const t = r.transactions;
  c.eq('issuer: number of transactions', t.length, 5);
  if (t.length !== 5) return;
  checkHistory(c, 'issuer', [t[0], t[1], t[4]], [
    { type: 'offereffect', hash: S.abHash },
    { type: 'sent', hash: S.issueHash, counterparty: A.address, amount: [500, CUR, I.address] },
    { type: 'received', hash: S.fundHashes[2], counterparty: G.address, amount: [1000, 'SWT', ''] },
  ]);
  // the two TrustSets closed in the same ledger: either order
  const trusted = [t[2], t[3]];
  for (const x of trusted) {
    c.eq('issuer trusted type', x.type, 'trusted');
    c.ok('issuer trusted counterparty is A or B', [A.address, B.address].includes(x.counterparty), show(x.counterparty));
    if (x.amount) c.amount('issuer trusted amount (reversed limit)', x.amount, -10000, CUR, x.counterparty);
    else c.ok('issuer trusted amount', false, show(x));
  }
  c.ok('issuer trusted: one from A and one from B', trusted.map((x) => x.counterparty).sort().join() ===
    [A.address, B.address].sort().join(), show(trusted.map((x) => x.counterparty)));
  c.eq('issuer trusted hashes', trusted.map((x) => x.hash).sort().join(), S.trustHashes.slice().sort().join());
});

step('requestTx A->B by hash: tesSUCCESS, 120 CNY, metadata', ['transfer'], async (c) => {
  const r = await call(remote.requestTx({ hash: S.abHash }), 'tx A->B');
  c.must('tx result object', r && typeof r === 'object', show(r));
  c.eq('hash', r.hash, S.abHash);
  c.eq('TransactionType', r.TransactionType, 'Payment');
  c.eq('Account', r.Account, A.address);
  c.eq('Destination', r.Destination, B.address);
  c.amount('Amount', r.Amount, 120, CUR, I.address);
  c.eq('Fee', r.Fee, '10000');
  c.eq('validated', r.validated, true);
  c.ok('ledger_index is a number', typeof r.ledger_index === 'number', show(r.ledger_index));
  c.ok('date is a number', typeof r.date === 'number', show(r.date));
  c.must('meta', r.meta && typeof r.meta === 'object', show(r));
  c.eq('meta.TransactionResult', r.meta.TransactionResult, 'tesSUCCESS');
  c.amount('meta.delivered_amount', r.meta.delivered_amount, 120, CUR, I.address);
  c.must('meta.AffectedNodes array', Array.isArray(r.meta.AffectedNodes), show(r.meta));
  const nodes = r.meta.AffectedNodes.map((n) => {
    const kind = ['CreatedNode', 'ModifiedNode', 'DeletedNode'].find((k) => n[k]);
    return { kind, n: kind ? n[kind] : n };
  });
  c.ok('every AffectedNodes entry is CreatedNode/ModifiedNode/DeletedNode', nodes.every((x) => x.kind), show(r.meta.AffectedNodes));
  const lines = nodes.filter((x) => x.n.LedgerEntryType === 'SkywellState');
  c.eq('SkywellState nodes', lines.length, 2);
  for (const l of lines) {
    const f = l.n.FinalFields || l.n.NewFields || {};
    c.ok('SkywellState FinalFields HighLimit/LowLimit with issuer (both libraries read them)', f.HighLimit && f.LowLimit &&
      f.HighLimit.issuer && f.LowLimit.issuer, show(l.n));
    c.ok('SkywellState FinalFields Balance', f.Balance && f.Balance.currency === CUR, show(l.n));
    c.ok('SkywellState PreviousFields Balance', l.n.PreviousFields && l.n.PreviousFields.Balance, show(l.n));
  }
  const roots = nodes.filter((x) => x.n.LedgerEntryType === 'AccountRoot');
  const rootA = roots.find((x) => (x.n.FinalFields || {}).Account === A.address);
  c.ok('AccountRoot of A with FinalFields Account/Balance', rootA && rootA.n.FinalFields.Balance, show(roots));
  c.eq('ledger_index equals that of the transactions event', r.ledger_index, S.abFinal.data.ledger_index);
});

step('events: ledger_closed received', ['connect'], async (c) => {
  c.must('at least one ledger_closed event', ledgerEvents.length > 0, 'none in ' + ((Date.now() - T0) / 1000).toFixed(1) + ' s');
  const e = ledgerEvents[ledgerEvents.length - 1];
  c.ok('ledger_index is a number', typeof e.ledger_index === 'number', show(e));
  c.ok('ledger_hash is 64 hex', HEX64.test(e.ledger_hash || ''), show(e));
  c.ok('ledger_time is a number', typeof e.ledger_time === 'number', show(e));
  c.eq('fee_base', e.fee_base, 10);
  c.eq('reserve_base', e.reserve_base, 10000000);
  c.eq('reserve_inc', e.reserve_inc, 1000000);
  c.ok('txn_count is a number', typeof e.txn_count === 'number', show(e));
  c.ok('validated_ledgers is a string', typeof e.validated_ledgers === 'string', show(e));
  for (let i = 1; i < ledgerEvents.length; i++) {
    if (ledgerEvents[i].ledger_index !== ledgerEvents[i - 1].ledger_index + 1) {
      c.ok('ledger_closed indexes consecutive', false, ledgerEvents[i - 1].ledger_index + ' then ' + ledgerEvents[i].ledger_index);
      break;
    }
  }
  if (S.abFinal && S.abFinal.via === 'event') {
    const L = S.abFinal.data.ledger_index;
    c.ok('a ledger_closed event for the ledger of A->B (' + L + ')', ledgerEvents.some((x) => x.ledger_index === L),
      show(ledgerEvents.map((x) => x.ledger_index)));
  }
});

step('events: transactions received, including A->B by hash', ['transfer'], async (c) => {
  const mine = [].concat(S.fundHashes || [], S.trustHashes || [], [S.issueHash, S.abHash]);
  const missing = mine.filter((h) => !txEvents.has(h));
  c.ok('a transactions event for each of the 7 transactions', missing.length === 0, 'missing ' + show(missing));
  const d = txEvents.get(S.abHash);
  c.must('transactions event for A->B', d, 'not received; events seen: ' + txEvents.size);
  c.eq('type', d.type, 'transaction');
  c.eq('engine_result', d.engine_result, 'tesSUCCESS');
  c.eq('validated', d.validated, true);
  c.eq('status', d.status, 'closed');
  c.ok('ledger_index is a number', typeof d.ledger_index === 'number', show(d.ledger_index));
  c.ok('ledger_hash is 64 hex', HEX64.test(d.ledger_hash || ''), show(d.ledger_hash));
  c.eq('transaction.Account', d.transaction.Account, A.address);
  c.eq('transaction.Destination', d.transaction.Destination, B.address);
  c.amount('transaction.Amount', d.transaction.Amount, 120, CUR, I.address);
  c.ok('transaction.date is a number', typeof d.transaction.date === 'number', show(d.transaction.date));
  c.eq('meta.TransactionResult', d.meta && d.meta.TransactionResult, 'tesSUCCESS');
  if (LIBNAME === 'jingtum') {
    const t = stubEvents.find((x) => x.hash === S.abHash);
    c.ok('Account stub for B called back with A->B', t, stubEvents.length + ' callbacks: ' + show(stubEvents.map((x) => x.hash)));
    if (t) {
      c.eq('Account stub: type', t.type, 'received');
      c.amount('Account stub: amount', t.amount, 120, CUR, I.address);
      c.eq('Account stub: counterparty', t.counterparty, A.address);
    }
  }
});

step('requestLedgerClosed / requestLedger: ledger of A->B lists it and chains to its parent', ['transfer'], async (c) => {
  const lc = await call(remote.requestLedgerClosed(), 'ledger_closed');
  c.ok('ledger_closed: ledger_index is a number', lc && typeof lc.ledger_index === 'number', show(lc));
  c.ok('ledger_closed: ledger_hash is 64 hex', lc && HEX64.test(lc.ledger_hash || ''), show(lc));
  const L = S.abFinal.data.ledger_index;
  c.must('ledger index of A->B known', typeof L === 'number', show(S.abFinal.data));
  const led = await call(remote.requestLedger({ ledger_index: L, transactions: true }), 'ledger ' + L);
  c.must('ledger object', led && typeof led === 'object', show(led));
  c.eq('ledger_index', String(led.ledger_index), String(L));
  c.eq('closed', led.closed, true);
  c.ok('hash is 64 hex', HEX64.test(led.hash || ''), show(led.hash));
  c.ok('transactions lists the A->B hash', Array.isArray(led.transactions) && led.transactions.includes(S.abHash),
    show(led.transactions));
  if (S.abFinal.via === 'event') c.eq('hash equals the ledger_hash of the transactions event', led.hash, S.abFinal.data.ledger_hash);
  const parent = await call(remote.requestLedger({ ledger_index: L - 1 }), 'ledger ' + (L - 1));
  c.ok('parent ledger: accepted', parent && parent.accepted === true, show(parent));
  c.eq('parent_hash equals the hash of ledger ' + (L - 1), led.parent_hash, parent && parent.ledger_hash);
  // fees are destroyed: total_coins drops by 10000 drops per transaction of ledger L
  const coins = (x) => (/^[0-9]+$/.test(String(x)) ? BigInt(String(x)) : null);
  const cL = coins(led.total_coins), cP = coins(parent && parent.total_coins);
  c.ok('total_coins are decimal strings', cL !== null && cP !== null, show([led.total_coins, parent && parent.total_coins]));
  if (cL !== null && cP !== null && Array.isArray(led.transactions)) {
    c.eq('total_coins(' + (L - 1) + ') - total_coins(' + L + ') = 10000 x ' + led.transactions.length + ' fees',
      (cP - cL).toString(), (FEE * BigInt(led.transactions.length)).toString());
  }
});

step('failure: B pays A 5000 SWT (more than it has) -> tecUNFUNDED_PAYMENT, fee charged', ['transfer'], async (c) => {
  const s = await submitSettled(payment(B, A.address, swt(5000)), 'overspend', c, 'tecUNFUNDED_PAYMENT', 'tecUNFUNDED_PAYMENT');
  const r = await call(remote.requestAccountInfo({ account: B.address }), 'account_info B');
  c.eq('B: Balance after (only the fee is taken)', r && r.account_data && r.account_data.Balance, (1000n * DROPS - 2n * FEE).toString());
  c.eq('B: Sequence after (consumed)', r && r.account_data && r.account_data.Sequence, 3);
  const t = await call(remote.requestTx({ hash: s.hash }), 'tx overspend');
  c.eq('tx: meta.TransactionResult', t && t.meta && t.meta.TransactionResult, 'tecUNFUNDED_PAYMENT');
});

step('failure: A pays 1 SWT to an unfunded address -> tecNO_DST_INSUF_SWT', ['transfer'], async (c) => {
  await submitSettled(payment(A, NOBODY.address, swt(1)), 'below reserve', c, 'tecNO_DST_INSUF_SWT', 'tecNO_DST_INSUF_SWT');
  let err = null;
  try {
    const r = await call(remote.requestAccountInfo({ account: NOBODY.address }), 'account_info unfunded');
    c.ok('account_info of the unfunded address fails', false, 'answered ' + show(r));
  } catch (e) { err = errText(e); }
  if (err) c.ok('account_info of the unfunded address: "Account not found."', /Account not found|actNotFound/.test(err), err);
  const r = await call(remote.requestAccountInfo({ account: A.address }), 'account_info A');
  c.eq('A: Balance after (only the fee is taken)', r && r.account_data && r.account_data.Balance, (1000n * DROPS - 3n * FEE).toString());
});

step('freeze: the issuer freezes 100 of B\'s CNY (buildRelationTx freeze); requestAccountRelations freeze answers from both sides; B cannot pay beyond the rest (telINSUF_FUND); unfreeze', ['transfer'], async (c) => {
  const fz = remote.buildRelationTx({ type: 'freeze', account: I.address, target: B.address, limit: cny(100) });
  fz.setSecret(I.secret);
  await submitSettled(fz, 'RelationSet freeze', c, 'tesSUCCESS', 'tesSUCCESS');
  const rels = async (w, n) => {
    const r = await call(remote.requestAccountRelations({ account: w.address, type: 'freeze' }), 'account_relation ' + n);
    c.eq(n + ': account', r && r.account, w.address);
    return (r && Array.isArray(r.lines)) ? r.lines : (c.ok(n + ': lines array', false, show(r)), []);
  };
  for (const [n, w, peer] of [['issuer', I, B], ['B', B, I]]) {
    const l = await rels(w, n);
    c.eq(n + ': number of freeze relations', l.length, 1);
    if (!l[0]) continue;
    c.eq(n + ': limit_peer (the other account)', l[0].limit_peer, peer.address);
    c.eq(n + ': relation_type', l[0].relation_type, '3');
    c.eq(n + ': currency', l[0].currency, CUR);
    c.eq(n + ': issuer', l[0].issuer, I.address);
    c.num(n + ': limit (the frozen amount)', l[0].limit, 100);
  }
  const over = await submit(payment(B, A.address, cny(21)), 'B pays A 21 CNY');
  c.eq('B pays A 21 CNY of its 120, 100 frozen: submit engine_result', over.submit.engine_result, 'telINSUF_FUND');
  const uf = remote.buildRelationTx({ type: 'unfreeze', account: I.address, target: B.address, limit: cny(100) });
  uf.setSecret(I.secret);
  await submitSettled(uf, 'RelationDel unfreeze', c, 'tesSUCCESS', 'tesSUCCESS');
  c.eq('B: freeze relations after unfreeze', (await rels(B, 'B after')).length, 0);
});

// SendMax through the library: jingtum-lib 2.4's setSendMax calls utils.isValidAmount, which its
// circular require of utils.js leaves undefined when transaction.js loads first; the amount is
// then set as setSendMax sets it after its check (tx_json.SendMax, the amount object as given).
function sendMax(tx, amount) {
  let e;
  try { e = tx.setSendMax(amount); } catch (x) { e = x; }
  if (e instanceof TypeError) tx.tx_json.SendMax = amount;
  else if (e instanceof Error) throw e;
  return tx;
}

step('cross-currency: D pays C 20 CNY with a SendMax of 45 SWT (setSendMax) through A\'s offer (50 CNY for 100 SWT); a PartialPayment of 100 CNY delivers the 30 left; requestTx and requestAccountTx show the amounts, delivered_amount and the offer effects', ['transfer'], async (c) => {
  const C = newWallet(), D = newWallet();
  for (const [n, w] of [['C', C], ['D', D]]) {
    await submitSettled(payment(G, w.address, swt(1000)), 'fund ' + n, c, 'tesSUCCESS', 'tesSUCCESS');
  }
  await submitSettled(trustLine(C, cny(1000)), 'TrustSet C', c, 'tesSUCCESS', 'tesSUCCESS');
  const of = remote.buildOfferCreateTx({ type: 'Sell', account: A.address, taker_pays: swt(100), taker_gets: cny(50) });
  of.setSecret(A.secret);
  await submitSettled(of, 'A offers 50 CNY for 100 SWT', c, 'tesSUCCESS', 'tesSUCCESS');
  const p1 = sendMax(payment(D, C.address, cny(20)), swt(45));
  const s1 = await submitSettled(p1, 'D pays C 20 CNY, SendMax 45 SWT', c, 'tesSUCCESS', 'tesSUCCESS');
  const p2 = sendMax(payment(D, C.address, cny(100)), swt(300));
  p2.setFlags(0x00020000); // tfPartialPayment
  const s2 = await submitSettled(p2, 'D pays C 100 CNY, SendMax 300 SWT, PartialPayment', c, 'tesSUCCESS', 'tesSUCCESS');
  // the raw transactions
  for (const [n, s, amt, got, sent] of [['first', s1, 20, 20, 45], ['partial', s2, 100, 30, 300]]) {
    const r = await call(remote.requestTx({ hash: s.hash }), 'tx ' + n);
    c.must(n + ': tx result object', r && r.meta, show(r));
    c.amount(n + ': Amount', r.Amount, amt, CUR, I.address);
    c.eq(n + ': SendMax (drops)', String(r.SendMax), String(sent * 1000000));
    c.eq(n + ': meta.TransactionResult', r.meta.TransactionResult, 'tesSUCCESS');
    c.amount(n + ': meta.delivered_amount', r.meta.delivered_amount, got, CUR, I.address);
    if (got === amt) c.eq(n + ': meta.DeliveredAmount (all delivered: absent)', r.meta.DeliveredAmount, undefined);
    else c.amount(n + ': meta.DeliveredAmount', r.meta.DeliveredAmount, got, CUR, I.address);
  }
  // balances: D spent 40 and 60 SWT and two fees; C holds 50 CNY; A's offer is gone
  const info = await call(remote.requestAccountInfo({ account: D.address }), 'account_info D');
  c.eq('D: Balance', info && info.account_data && info.account_data.Balance, String(1000n * DROPS - 100n * DROPS - 2n * FEE));
  const lines = await call(remote.requestAccountRelations({ account: C.address, type: 'trust' }), 'account_lines C');
  const lc = lines && Array.isArray(lines.lines) ? lines.lines.find((l) => l.currency === CUR) : null;
  c.ok('C: CNY line', lc, show(lines));
  if (lc) c.num('C: CNY balance', lc.balance, 50);
  const offers = await call(remote.requestAccountOffers({ account: A.address }), 'account_offers A');
  c.eq('A: offers left', offers && Array.isArray(offers.offers) ? offers.offers.length : null, 0);
  // the library's processed history
  const entry = async (w, n, hash) => {
    const h = await call(remote.requestAccountTx({ account: w.address }), 'account_tx ' + n);
    const e = h && Array.isArray(h.transactions) ? h.transactions.find((x) => x.hash === hash) : null;
    c.ok(n + ': account_tx lists ' + hash, e, show(h && h.transactions && h.transactions.length));
    return e || {};
  };
  for (const [n, s, amt, got, pays] of [['first', s1, 20, 20, 40], ['partial', s2, 100, 30, 60]]) {
    const ed = await entry(D, 'D', s.hash);
    c.eq(n + ' D: type', ed.type, 'sent');
    c.eq(n + ' D: result', ed.result, 'tesSUCCESS');
    c.eq(n + ' D: counterparty', ed.counterparty, C.address);
    c.amount(n + ' D: amount (the Amount)', ed.amount, amt, CUR, I.address);
    const ec = await entry(C, 'C', s.hash);
    c.eq(n + ' C: type', ec.type, 'received');
    c.eq(n + ' C: counterparty', ec.counterparty, D.address);
    c.amount(n + ' C: amount (the Amount)', ec.amount, amt, CUR, I.address);
    c.num(n + ' C: balances.CNY (what was delivered, in all)', ec.balances && ec.balances[CUR], n === 'first' ? 20 : 50);
    const ea = await entry(A, 'A', s.hash);
    c.eq(n + ' A: type', ea.type, 'offereffect');
    const ef = Array.isArray(ea.effects) ? ea.effects.find((x) => /^offer_/.test(String(x.effect))) : null;
    c.ok(n + ' A: an offer effect', ef, show(ea.effects));
    if (!ef) continue;
    c.eq(n + ' A: effect', ef.effect, n === 'first' ? 'offer_partially_funded' : 'offer_funded');
    c.amount(n + ' A: got (SWT)', ef.got, pays, 'SWT');
    c.amount(n + ' A: paid (CNY)', ef.paid, got, CUR, I.address);
    c.eq(n + ' A: counterparty.account', ef.counterparty && ef.counterparty.account, D.address);
  }
});

// ---------------------------------------------------------------- runner
async function main() {
  remote = new Remote({ server: URL, local_sign: true });
  if (remote.type instanceof Error) { say('not ok ' + TAG + ' Remote: ' + remote.type.message); process.exit(1); }
  // Trace frames (internal hooks, only for the trace file; the scenario does not depend on them).
  if (traceFd !== null) {
    const srv = remote._server, send = srv.sendMessage.bind(srv), handle = remote._handleMessage.bind(remote);
    srv.sendMessage = (cmd, data) => {
      const id = send(cmd, data);
      trace('>>', JSON.stringify(Object.assign({ id: id, command: cmd }, data)));
      return id;
    };
    remote._handleMessage = (m) => { trace('<<', typeof m === 'string' ? m : (m && m.data) || String(m)); return handle(m); };
  }

  const passed = new Set();
  let failed = 0;
  const deadline = T0 + DEADLINE_S * 1000;
  for (const st of steps) {
    const short = st.name.split(':')[0];
    const label = TAG + ' ' + st.name;
    const missing = st.needs.filter((n) => !passed.has(n));
    if (missing.length) {
      say('not ok ' + label + ': not run, needs ' + missing.join(', '));
      failed++;
      continue;
    }
    if (Date.now() > deadline) {
      say('not ok ' + label + ': not run, scenario deadline of ' + DEADLINE_S + ' s passed');
      failed++;
      continue;
    }
    const c = new Checks();
    const nUncaught = uncaught.length;
    let error = null;
    let timer = null;
    try {
      await Promise.race([
        st.fn(c),
        new Promise((resolve, reject) => {
          timer = setTimeout(() => reject(new Error('scenario deadline of ' + DEADLINE_S + ' s passed')),
            Math.max(1000, deadline - Date.now()));
        }),
      ]);
    } catch (e) {
      if (!(e instanceof StepFail) || e.message) error = errText(e);
    }
    clearTimeout(timer);
    const thrown = uncaught.slice(nUncaught).map((u) => 'library threw: ' + u);
    const fails = c.fails.concat(error ? [error] : [], thrown);
    if (fails.length === 0) {
      say('ok ' + label);
      passed.add(short);
    } else {
      failed++;
      say('not ok ' + label + ': ' + fails[0]);
      for (const f of fails.slice(1, 25)) say('#   ' + f);
      if (fails.length > 25) say('#   … ' + (fails.length - 25) + ' more');
    }
  }
  say('# ' + TAG + ': ' + (steps.length - failed) + '/' + steps.length + ' steps passed in ' +
    ((Date.now() - T0) / 1000).toFixed(1) + ' s (ledger_accept ' + acceptState + ')');
  try { remote.disconnect(); } catch (e) { /* ignore */ }
  if (traceFd !== null) fs.closeSync(traceFd);
  process.exit(failed ? 1 : 0);
}

main().catch((e) => { say('not ok ' + TAG + ' scenario crashed: ' + (e && e.stack || e)); process.exit(1); });
