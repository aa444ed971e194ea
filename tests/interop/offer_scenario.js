// offer_scenario.js — acceptance scenario for offers: the unmodified jingtum-lib against jt-node.
//
//   node offer_scenario.js ws://127.0.0.1:PORT
//   JT_SCENARIO_TRACE=FILE   write every WebSocket frame sent and received to FILE
//   JT_SCENARIO_DEADLINE=S   give up after S seconds (default 55)
//   JT_OFFER_DUMP=FILE       write each processed history entry the scenario checks to FILE
//   JT_OFFER_ALL=1           run every step even when a step it depends on failed (the expected
//                            state is then the model's, so later failures may only echo the first)
//
// Order books of CNY (issued by I) against SWT, then USD (I2, TransferRate 1.25), EUR and GBP.
// Makers M1 and M2 rest offers built with buildOfferCreateTx (type 'Sell' and 'Buy', several
// price levels); takers T, U, V and W cross them (phase 1: a full fill, a partial fill across
// two levels with the remainder placed, IOC, a Sell that receives more than it asked, FOK that
// cannot fill, FOK that fills; phase 2: unfunded offers met in the book, a taker without a trust
// line, a taker's own offer; phase 3: tec results and the reserve; phase 4: the transfer rate;
// phase 5: auto-bridging through SWT; phase 6: Passive offers, the issuer's own offers);
// buildOfferCancelTx cancels.
// The expected outcome of every OfferCreate comes from a model of skywelld's crossing (rippled
// 0.28: the taker gets the resting offer's price; owner funds, the Buy limit, the taker's
// TakerGets bound each fill; a remainder is placed at the taker's own price; IOC never rests; FOK
// that cannot fill changes nothing but the fee and the sequence), computed here in exact integer
// arithmetic from the offers' prices, never copied from the node's answers. After each step:
//   * balances, sequences, owner counts (requestAccountInfo) and lines (requestAccountRelations:
//     balance, limit) of every account;
//   * requestAccountOffers of every account, requestOrderBook of both sides of every book
//     (order, amounts, owner_funds, taker_gets_funded / taker_pays_funded, quality,
//     PreviousTxnID);
//   * the library's processed history (requestAccountTx → jingtum-lib utils.processTx) of the
//     transaction for the account that sent it and for every account whose offer it touched:
//     type offernew / offereffect / offercancel, effects offer_created, offer_bought,
//     offer_funded, offer_partially_funded, offer_cancelled with the amounts got and paid per fill,
//     dealGets / dealPays, balances.
//
// Prints one "ok NAME" / "not ok NAME: detail" line per step (counted by scripts/run-tests.sh).
'use strict';

const fs = require('fs');

const URL = process.argv[2];
if (!URL) {
  process.stderr.write('usage: node offer_scenario.js ws://HOST:PORT\n');
  process.exit(2);
}
const TAG = 'jingtum-lib offers';
const DEADLINE_S = Number(process.env.JT_SCENARIO_DEADLINE || 55);
const RUN_ALL = process.env.JT_OFFER_ALL === '1';
const T0 = Date.now();

const out = process.stdout.write.bind(process.stdout);
const say = (s) => out(s + '\n');
// jingtum-lib prints "Get tx type: …" on every serialization: silence console.log.
console.log = () => {};

const { Remote, Request, Wallet } = require('jingtum-lib');

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
  let s;
  try { s = JSON.stringify(v, (k, x) => (typeof x === 'bigint' ? x.toString() : x)); } catch (e) { s = String(v); }
  if (s === undefined) s = String(v);
  return s.length > 600 ? s.slice(0, 600) + '…' : s;
};
const errText = (e) => (e instanceof Error ? e.message : typeof e === 'string' ? e : show(e));
const HEX64 = /^[0-9A-F]{64}$/;

class StepFail extends Error {}

class Checks {
  constructor() { this.fails = []; }
  eq(what, actual, expected) {
    if (actual !== expected) this.fails.push(what + ': expected ' + show(expected) + ', got ' + show(actual));
  }
  ok(what, cond, detail) { if (!cond) this.fails.push(what + (detail !== undefined ? ': ' + detail : '')); }
  must(what, cond, detail) { if (!cond) { this.ok(what, false, detail); throw new StepFail(); } }
  // a library or node amount against a model amount {cur, v}
  amt(what, actual, want) {
    const a = anyAmount(actual);
    if (!a || a.cur !== want.cur || a.v !== want.v || (a.issuer !== undefined && a.issuer !== issuerOf(want.cur))) {
      this.fails.push(what + ': expected ' + fmtA(want) + ', got ' + show(actual));
    }
  }
  // a decimal value as text (a line balance, owner_funds of an issued currency, …) against
  // millionths; both shown as decimals
  val(what, actual, want) {
    const v = actual === undefined || actual === null ? null : toMicro(actual);
    if (v === null || v !== want) this.fails.push(what + ': expected ' + fmtV(want) + ', got ' + show(actual));
  }
  // a number the library computed (floating point) against an exact rational num/den
  near(what, actual, num, den) {
    const want = Number(num) / Number(den);
    const got = Number(actual);
    if (!(Math.abs(got - want) <= Math.abs(want) * 1e-12)) {
      this.fails.push(what + ': expected ' + want + ', got ' + show(actual));
    }
  }
}

// ---------------------------------------------------------------- exact amounts
// Every amount is {cur, v: BigInt} with v in millionths: drops for SWT, 10^-6 units for CNY, EUR
// and GBP (issued by I) and USD (issued by I2, who charges a transfer rate). The scenario's
// amounts and prices keep every fill exact at that scale.
const CUR = 'CNY';
const IOUS = ['CNY', 'USD', 'EUR', 'GBP'];
const M6 = 1000000n;

function toMicro(s) { // decimal text (sign, fraction, exponent) → BigInt millionths, or null
  const m = /^(-?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/.exec(String(s).trim());
  if (!m || (m[2] === '' && (m[3] === undefined || m[3] === ''))) return null;
  let digits = (m[2] || '') + (m[3] || '');
  let exp = (m[4] ? Number(m[4]) : 0) - (m[3] || '').length + 6;
  if (exp < 0) {
    const cut = digits.slice(digits.length + exp);
    if (cut.length > digits.length || /[1-9]/.test(cut)) return null; // finer than 10^-6
    digits = digits.slice(0, digits.length + exp);
    exp = 0;
  }
  const v = BigInt((digits || '0') + '0'.repeat(exp));
  return m[1] === '-' ? -v : v;
}
const fmtV = (v) => {
  const neg = v < 0n; const a = neg ? -v : v;
  let s = (a / M6).toString();
  const f = (a % M6).toString().padStart(6, '0').replace(/0+$/, '');
  if (f) s += '.' + f;
  return (neg ? '-' : '') + s;
};
const swt = (x) => ({ cur: 'SWT', v: toMicro(String(x)) });
const cny = (x) => ({ cur: CUR, v: toMicro(String(x)) });
const usd = (x) => ({ cur: 'USD', v: toMicro(String(x)) });
const eur = (x) => ({ cur: 'EUR', v: toMicro(String(x)) });
const gbp = (x) => ({ cur: 'GBP', v: toMicro(String(x)) });
const fmtA = (a) => fmtV(a.v) + ' ' + a.cur;
const ISSUERS = {}; // currency -> issuing wallet
const issuerOf = (cur) => (cur === 'SWT' ? '' : ISSUERS[cur].address);
const libAmount = (a) => ({ value: fmtV(a.v), currency: a.cur, issuer: issuerOf(a.cur) });

// an amount as the node or the library writes it → {cur, v, issuer}
function anyAmount(x) {
  if (typeof x === 'string') { // drops
    if (!/^-?\d+$/.test(x)) return null;
    return { cur: 'SWT', v: BigInt(x) };
  }
  if (!x || typeof x !== 'object') return null;
  const v = toMicro(x.value);
  if (v === null) return null;
  if (x.currency === 'SWT') return { cur: 'SWT', v, issuer: x.issuer === undefined ? '' : x.issuer };
  return { cur: x.currency, v, issuer: x.issuer };
}

// ---------------------------------------------------------------- library calls with timeouts
let remote = null;

function call(req, label, ms) {
  return new Promise((resolve, reject) => {
    let done = false;
    const timer = setTimeout(() => {
      if (done) return;
      done = true;
      const extra = uncaught.length ? ' (library threw: ' + uncaught[uncaught.length - 1] + ')' : '';
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

// ---------------------------------------------------------------- events and closing ledgers
const txEvents = new Map(); // hash -> 'transactions' payload
function onTransactions(data) {
  try {
    const h = data && data.transaction && data.transaction.hash;
    if (h) txEvents.set(h, data);
  } catch (e) { /* never throw into the library */ }
}

let acceptState = 'untried';
let acceptTimeouts = 0;
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
    say('# ' + TAG + ': ledger_accept ' + acceptState + '; waiting for the close timer instead');
    return false;
  }
}

// Wait until every transaction of `hashes` is in a validated ledger (closing ledgers with
// ledger_accept); resolves with a map hash -> {result, ledger_index}.
async function settleAll(hashes, label, ms) {
  const limit = Date.now() + (ms || 12000);
  const got = new Map();
  for (;;) {
    for (const h of hashes) {
      if (got.has(h)) continue;
      const d = txEvents.get(h);
      if (d) got.set(h, { result: (d.meta && d.meta.TransactionResult) || d.engine_result, ledger: d.ledger_index });
    }
    if (got.size === hashes.length) return got;
    if (Date.now() > limit) break;
    if (!(await ledgerAccept())) await sleep(400);
    for (const h of hashes) {
      if (got.has(h) || txEvents.has(h)) continue;
      try {
        const r = await call(remote.requestTx({ hash: h }), 'tx', 3000);
        if (r && r.validated === true && r.meta) got.set(h, { result: r.meta.TransactionResult, ledger: r.ledger_index });
      } catch (e) { /* not yet */ }
    }
  }
  throw new Error(label + ': not validated within ' + ((ms || 12000) / 1000) + ' s: ' +
    show(hashes.filter((h) => !got.has(h))));
}

async function submitTx(tx, label) {
  const r = await call(tx, 'submit ' + label, 8000);
  const hash = r && r.tx_json && r.tx_json.hash;
  if (typeof hash !== 'string' || !HEX64.test(hash)) {
    throw new Error('submit ' + label + ': answer has no tx_json.hash: ' + show(r));
  }
  return { submit: r, hash };
}

// ---------------------------------------------------------------- accounts
const G = { name: 'genesis', address: 'jHb9CJAWyB4jr91VRWn96DkukG4bwdtyTh', secret: 'snoPBjXtMeMyMHUVTgbuqAfg1SUTb' };
const wallet = (name) => { const w = Wallet.generate(); return { name, address: w.address, secret: w.secret }; };
const I = wallet('I');    // issuer of CNY
const I2 = wallet('I2');  // issuer of USD, TransferRate 1.25
const M1 = wallet('M1');  // maker
const M2 = wallet('M2');  // maker
const T = wallet('T');    // taker (buys CNY with SWT)
const U = wallet('U');    // taker (sells CNY, then buys)
const V = wallet('V');    // taker without a trust line
const W = wallet('W');    // taker with little more than its reserve
ISSUERS.CNY = I;
ISSUERS.USD = I2;
ISSUERS.EUR = I;
ISSUERS.GBP = I;
const HOLDERS = [M1, M2, T, U, V, W];
const ALL = [I, I2, M1, M2, T, U, V, W];
const isIssuer = (name, cur) => cur !== 'SWT' && ISSUERS[cur].name === name;
const byAddr = (a) => ALL.find((w) => w.address === a);

const FEE = 10000n;
const RESERVE_BASE = 10000000n;
const RESERVE_INC = 1000000n;
const LSF_SELL = 0x00020000;
const LSF_PASSIVE = 0x00010000;
const offerFlags = (o) => (o.sell ? LSF_SELL : 0) | (o.passive ? LSF_PASSIVE : 0);

// ---------------------------------------------------------------- the model
// State: per account its balances (b: SWT drops, CNY and USD millionths; an issuer's own
// currency is not counted), its lines (lim: limit per currency, null without a line; a line a
// crossing creates has limit 0), Sequence, OwnerCount; the resting offers; the transfer rates.
// An offer: {key, owner, seq, pays, gets, sell, qn, qd, t, last}; its quality is qn/qd =
// TakerPays/TakerGets of the transaction that placed it (what a taker pays per unit received;
// lower is better for the taker), kept when the offer is partly consumed, as skywelld keeps
// the quality of its book directory.
const M = { acct: {}, offers: [], clock: 0, rate: {} }; // rate: currency -> [num, den]
const newAcct = () => {
  const a = { b: { SWT: 0n }, lim: {}, seq: 1, owners: 0 };
  for (const cur of IOUS) { a.b[cur] = 0n; a.lim[cur] = null; }
  return a;
};
for (const w of ALL) M.acct[w.name] = newAcct();
const clone = (x) => JSON.parse(JSON.stringify(x, (k, v) => (typeof v === 'bigint' ? { $b: v.toString() } : v)),
  (k, v) => (v && typeof v === 'object' && typeof v.$b === 'string' ? BigInt(v.$b) : v));

const reserve = (n) => RESERVE_BASE + BigInt(n) * RESERVE_INC;
function addBal(name, cur, d) {
  const a = M.acct[name];
  if (isIssuer(name, cur)) return;
  a.b[cur] += d;
  if (cur !== 'SWT' && a.lim[cur] === null) { a.lim[cur] = 0n; a.owners += 1; } // issue_iou creates the line
}
// what an account can spend of `cur` (skywelld accountFunds): SWT above the reserve
function funds(name, cur) {
  if (isIssuer(name, cur)) return 1n << 100n;
  const a = M.acct[name];
  const f = cur === 'SWT' ? a.b.SWT - reserve(a.owners) : a.b[cur];
  return f > 0n ? f : 0n;
}
// the transfer rate a crossing charges the sender of `cur` (skywelld: none for SWT, none when
// the owner is the taker or either is the issuer)
function rateOf(cur, owner, taker) {
  if (cur === 'SWT' || owner === taker || isIssuer(owner, cur) || isIssuer(taker, cur)) return null;
  return M.rate[cur];
}
const mulR = (x, r, what) => (r ? exactDiv(x * r[0], r[1], what) : x);
const divR = (x, r, what) => (r ? exactDiv(x * r[1], r[0], what) : x);
const worse = (qn1, qd1, qn2, qd2) => qn1 * qd2 > qn2 * qd1; // q1 > q2
const modelNotes = []; // inexact arithmetic: the scenario's amounts must be changed
function exactDiv(a, b, what, up) {
  if (a % b !== 0n) modelNotes.push('inexact ' + what + ': ' + a + '/' + b);
  const q = a / b;
  return up && a % b !== 0n ? q + 1n : q;
}
// skywelld keeps an offer's quality (TakerPays/TakerGets, SWT in drops) as a 16-digit decimal;
// the model computes fills from the exact ratio, so the scenario's prices must make it exact
const gcd = (a, b) => (b === 0n ? a : gcd(b, a % b));
function checkQuality(pays, gets, what) {
  let n = pays.v * (pays.cur === 'SWT' ? M6 : 1n), d = gets.v * (gets.cur === 'SWT' ? M6 : 1n);
  const g = gcd(n, d); n /= g; d /= g;
  let k = 0;
  while (d % 10n === 0n) { d /= 10n; k++; }
  while (d % 2n === 0n) { d /= 2n; n *= 5n; k++; }
  while (d % 5n === 0n) { d /= 5n; n *= 2n; k++; }
  while (n % 10n === 0n && n > 0n) n /= 10n;
  if (d !== 1n || n.toString().length > 16) modelNotes.push('quality of ' + what + ' is not an exact 16-digit decimal');
}
// a bridge's quality is the product of its legs' (rounded up to 16 digits): keep it exact
function checkComposed(qn, qd, what) {
  const g = gcd(qn, qd); let n = qn / g, d = qd / g;
  while (d % 2n === 0n) { d /= 2n; n *= 5n; }
  while (d % 5n === 0n) { d /= 5n; n *= 2n; }
  while (n % 10n === 0n && n > 0n) n /= 10n;
  if (d !== 1n || n.toString().length > 16) modelNotes.push('composed quality of ' + what + ' is not an exact 16-digit decimal');
}
function bookOf(payCur, getCur) {
  return M.offers.filter((o) => o.pays.cur === payCur && o.gets.cur === getCur)
    .sort((a, b) => (worse(a.qn, a.qd, b.qn, b.qd) ? 1 : worse(b.qn, b.qd, a.qn, a.qd) ? -1 : a.t - b.t));
}
function removeOffer(o) {
  M.offers = M.offers.filter((x) => x !== o);
  M.acct[o.owner].owners -= 1;
}
function fee(name) { M.acct[name].b.SWT -= FEE; M.acct[name].seq += 1; }

// OfferCreate by `name` (TakerPays `pays`, TakerGets `gets`; flags {sell, ioc, fok}), as
// skywelld applies it. Returns {result, fills, placed, killed, removed}; a fill is
// {o (the offer after), owner, seq, paid (to the owner, in o.pays's currency), got (by the taker),
//  prevPays, prevGets, last (the offer's PreviousTxnID before), deleted}; `removed` lists the
// offers taken off the book unfilled: found unfunded, or the taker's own.
function modelOfferCreate(name, seq, pays, gets, flags, hash) {
  const prior = M.acct[name].b.SWT;
  fee(name);
  const checkpoint = clone(M);
  const tn = gets.v, td = pays.v; // taker quality: in per out
  const rem = { in: gets.v, out: pays.v };
  const fills = [];
  const unfunded = []; // offers found unfunded (or empty): removed even when a FOK is killed
  const removed = [];
  const dropped = (o, why) => ({ key: o.key, owner: o.owner, seq: o.seq, sell: o.sell, pays: o.pays, gets: o.gets, last: o.last, why });
  const atStart = {};
  for (const n of Object.keys(M.acct)) {
    atStart[n] = {};
    for (const cur of ['SWT'].concat(IOUS)) atStart[n][cur] = funds(n, cur);
  }
  const done = () => rem.in <= 0n || (!flags.sell && rem.out <= 0n) || funds(name, gets.cur) <= 0n;
  // a Passive offer's threshold is one step better: it does not take offers at its own price
  const reject = (qn, qd) => (flags.passive ? !worse(tn, td, qn, qd) : worse(qn, qd, tn, td));
  if (funds(name, gets.cur) <= 0n) {
    Object.assign(M, checkpoint);
    return { result: 'tecUNFUNDED_OFFER', fills: [], placed: null, killed: false, removed: [] };
  }
  // An offer stream (skywelld OfferStream over BookTip): stepping deletes the previous tip, then
  // drops empty and unfunded offers until a usable one.
  const stream = (payCur, getCur) => ({ payCur, getCur, tip: null, own: false });
  function step(st) {
    if (st.tip && M.offers.includes(st.tip)) {
      if (st.own) removed.push(dropped(st.tip, 'own'));
      removeOffer(st.tip);
    }
    st.tip = null; st.own = false;
    for (;;) {
      const o = bookOf(st.payCur, st.getCur)[0];
      if (!o) return false;
      if (o.pays.v <= 0n || o.gets.v <= 0n) { unfunded.push(o.key); removed.push(dropped(o, 'empty')); removeOffer(o); continue; }
      if (funds(o.owner, o.gets.cur) <= 0n) {
        if (atStart[o.owner][o.gets.cur] <= 0n) unfunded.push(o.key);
        removed.push(dropped(o, 'unfunded'));
        removeOffer(o);
        continue;
      }
      st.tip = o;
      return true;
    }
  }
  // the direct book skips (and so cancels) the taker's own offers
  function stepAccount(st) {
    while (step(st)) {
      if (reject(st.tip.qn, st.tip.qd)) return true;
      if (st.tip.owner !== name) return true;
      st.own = true;
    }
    return false;
  }
  const mulq = (o, x) => { const y = exactDiv(x * o.qn, o.qd, 'price of ' + o.key); return y < o.pays.v ? y : o.pays.v; };
  const divq = (o, x) => { const y = exactDiv(x * o.qd, o.qn, 'price of ' + o.key); return y < o.gets.v ? y : o.gets.v; };
  // consume `o` by what its owner receives (oin, from `payer`) and gives (oout, to `payee`); the
  // sender of an issued currency pays the rate on it; a null payer: that side moves elsewhere
  function fill(o, oin, oout, payer, rin, payee, rout) {
    const f = { key: o.key, owner: o.owner, seq: o.seq, sell: o.sell, prevPays: o.pays.v, prevGets: o.gets.v,
      paid: { cur: o.pays.cur, v: oin }, got: { cur: o.gets.cur, v: oout }, last: o.last, deleted: false };
    o.pays = { cur: o.pays.cur, v: o.pays.v - oin };
    o.gets = { cur: o.gets.cur, v: o.gets.v - oout };
    o.last = hash;
    if (payer) { addBal(payer, o.pays.cur, -mulR(oin, rin, 'taker pays')); addBal(o.owner, o.pays.cur, oin); }
    addBal(o.owner, o.gets.cur, -mulR(oout, rout, 'owner pays')); addBal(payee, o.gets.cur, oout);
    f.o = { pays: o.pays, gets: o.gets };
    fills.push(f);
    return f;
  }
  const dry = (o) => o.pays.v <= 0n || o.gets.v <= 0n || funds(o.owner, o.gets.cur) <= 0n;
  function crossDirect(o) {
    // the taker sends `in` and pays rin on it; the owner sends `out` and pays rout on it
    const rin = rateOf(gets.cur, o.owner, name), rout = rateOf(pays.cur, o.owner, name);
    let oin = o.pays.v, oout = o.gets.v;
    const of = funds(o.owner, o.gets.cur);
    if (of < mulR(oout, rout, 'owner pays')) { oout = divR(of, rout, 'owner funds'); oin = mulq(o, oout); }
    if (!flags.sell && rem.out < oout) { oout = rem.out; oin = mulq(o, oout); }
    if (rem.in < oin) { oin = rem.in; oout = divq(o, oin); }
    const tf = funds(name, gets.cur);
    if (tf < mulR(oin, rin, 'taker pays')) { oin = divR(tf, rin, 'taker funds'); oout = divq(o, oin); }
    rem.in -= oin; rem.out -= oout;
    return fill(o, oin, oout, name, rin, name, rout);
  }
  // through SWT: o1 takes the taker's currency for SWT, o2 gives the wanted currency for SWT
  function crossBridge(o1, o2) {
    if (rateOf(gets.cur, o1.owner, name) || rateOf(pays.cur, o2.owner, name)) modelNotes.push('the model bridges without rates');
    let leg1In = funds(name, o1.pays.cur);
    if (o1.owner === name && leg1In < o1.pays.v) leg1In = o1.pays.v;
    let leg2Out = funds(o2.owner, o2.gets.cur);
    if (o2.owner === name && leg2Out < o2.gets.v) leg2Out = o2.gets.v;
    let swtFunds = funds(o1.owner, 'SWT');
    if (o1.owner === o2.owner) swtFunds = o1.gets.v > o2.pays.v ? o1.gets.v : o2.pays.v;
    const f1 = { in: o1.pays.v, out: o1.gets.v };
    if (swtFunds < f1.out) { f1.out = swtFunds; f1.in = mulq(o1, f1.out); }
    if (rem.in < f1.in) { f1.in = rem.in; f1.out = divq(o1, f1.in); }
    if (leg1In < f1.in) { f1.in = leg1In; f1.out = divq(o1, f1.in); }
    const f2 = { in: o2.pays.v, out: o2.gets.v };
    if (leg2Out < f2.out) { f2.out = leg2Out; f2.in = mulq(o2, f2.out); }
    if (!flags.sell && rem.out < f2.out) { f2.out = rem.out; f2.in = mulq(o2, f2.out); }
    if (swtFunds < f2.in) { f2.in = swtFunds; f2.out = divq(o2, f2.in); }
    if (f1.out < f2.in) { f2.in = f1.out; f2.out = divq(o2, f2.in); } else if (f1.out > f2.in) { f1.out = f2.in; f1.in = mulq(o1, f1.out); }
    rem.in -= f1.in; rem.out -= f2.out;
    // the taker's currency to o1's owner, SWT from o1's owner to o2's, the wanted currency to the taker
    return [fill(o1, f1.in, f1.out, name, null, o2.owner, null), fill(o2, f2.in, f2.out, null, null, name, null)];
  }
  if (gets.cur !== 'SWT' && pays.cur !== 'SWT') {
    // rippled 0.28 bridged_cross: the direct book against the two books through SWT, the better
    // quality first, a tie to the bridge
    const leg1 = stream(gets.cur, 'SWT'), leg2 = stream('SWT', pays.cur), direct = stream(gets.cur, pays.cur);
    let haveBridge = step(leg1) && step(leg2);
    let haveDirect = stepAccount(direct);
    while (haveDirect || haveBridge) {
      let useDirect = !haveBridge, qn, qd;
      if (haveBridge) {
        qn = leg1.tip.qn * leg2.tip.qn; qd = leg1.tip.qd * leg2.tip.qd;
        checkComposed(qn, qd, leg1.tip.key + '+' + leg2.tip.key);
        if (haveDirect && worse(qn, qd, direct.tip.qn, direct.tip.qd)) useDirect = true;
      }
      if (useDirect) { qn = direct.tip.qn; qd = direct.tip.qd; }
      if (reject(qn, qd)) break;
      if (useDirect) {
        const f = crossDirect(direct.tip);
        if (dry(direct.tip)) { f.deleted = true; haveDirect = stepAccount(direct); }
      } else {
        const [f1, f2] = crossBridge(leg1.tip, leg2.tip);
        if (dry(leg1.tip)) { f1.deleted = true; haveBridge = haveBridge && step(leg1); }
        // a dry second leg is stepped past (deleted) even when the first leg's book ran out
        // (rippled 0.28 left it in the ledger, consumed; jt-node leaves no offer with a zero side)
        if (dry(leg2.tip)) { f2.deleted = true; const h = step(leg2); haveBridge = haveBridge && h; }
      }
      if (done()) break;
    }
  } else {
    const direct = stream(gets.cur, pays.cur);
    let have = stepAccount(direct);
    while (have) {
      if (reject(direct.tip.qn, direct.tip.qd)) break;
      const f = crossDirect(direct.tip);
      if (dry(direct.tip)) { f.deleted = true; have = stepAccount(direct); }
      if (done()) break;
    }
  }
  if (!done() && flags.fok) { // could not fill: only the fee, the sequence and unfunded removals
    Object.assign(M, checkpoint);
    for (const k of unfunded) { const o = M.offers.find((x) => x.key === k); if (o) removeOffer(o); }
    return { result: 'tesSUCCESS', fills: [], placed: null, killed: true,
      removed: removed.filter((r) => unfunded.includes(r.key)) };
  }
  let place = null;
  if (!done()) {
    if (!fills.length) place = { pays, gets };
    else if (flags.sell) place = { gets: { cur: gets.cur, v: rem.in }, pays: { cur: pays.cur, v: exactDiv(rem.in * td, tn, 'remainder', true) } };
    else place = { pays: { cur: pays.cur, v: rem.out }, gets: { cur: gets.cur, v: exactDiv(rem.out * tn, td, 'remainder', true) } };
  }
  if (place && !flags.ioc) {
    if (prior < reserve(M.acct[name].owners + 1)) {
      if (!fills.length) {
        Object.assign(M, checkpoint);
        return { result: 'tecINSUF_RESERVE_OFFER', fills: [], placed: null, killed: false, removed: [] };
      }
      place = null;
    } else {
      checkQuality(pays, gets, name + '/' + seq);
      const o = { key: name + '/' + seq, owner: name, seq, pays: place.pays, gets: place.gets, sell: !!flags.sell,
        passive: !!flags.passive, qn: pays.v, qd: gets.v, t: ++M.clock, last: hash };
      M.offers.push(o);
      M.acct[name].owners += 1;
      place = o;
    }
  } else place = null;
  return { result: 'tesSUCCESS', fills, placed: place, killed: false, removed };
}

function modelOfferCancel(name, offerSeq) {
  fee(name);
  const o = M.offers.find((x) => x.owner === name && x.seq === offerSeq);
  if (o) removeOffer(o);
  return o || null;
}

// ---------------------------------------------------------------- transactions
function signed(tx, w) {
  tx.setSecret(w.secret);
  tx.setSequence(M.acct[w.name].seq);
  return tx;
}
const paymentTx = (from, to, amount) => signed(remote.buildPaymentTx({ account: from.address, to: to.address, amount: libAmount(amount) }), from);
const trustTx = (w, limit) => signed(remote.buildRelationTx({ type: 'trust', account: w.address, limit: libAmount(limit) }), w);
// type 'Sell' or 'Buy'; flags: any of 'ImmediateOrCancel', 'FillOrKill' (setFlags adds them)
function offerTx(w, type, pays, gets, flags) {
  const tx = remote.buildOfferCreateTx({ type, account: w.address, taker_pays: libAmount(pays), taker_gets: libAmount(gets) });
  if (flags && flags.length) tx.setFlags(flags);
  return signed(tx, w);
}
const cancelTx = (w, seq) => signed(remote.buildOfferCancelTx({ account: w.address, sequence: seq }), w);

// Submit a batch of {tx, label, want} (one ledger), check submit and validated results.
async function submitBatch(c, items) {
  const subs = [];
  for (const it of items) {
    const s = await submitTx(it.tx, it.label);
    c.eq(it.label + ': submit engine_result', s.submit.engine_result, it.want);
    if (/^(tel|tem|tef)/.test(String(s.submit.engine_result))) {
      throw new StepFail(it.label + ' not applied: ' + s.submit.engine_result);
    }
    it.hash = s.hash;
    subs.push(s.hash);
  }
  const v = await settleAll(subs, items.map((it) => it.label).join(', '));
  for (const it of items) {
    it.final = v.get(it.hash);
    c.eq(it.label + ': validated TransactionResult', it.final.result, it.want);
  }
  return items;
}

// ---------------------------------------------------------------- state checks
async function checkAccounts(c, who) {
  for (const w of who) {
    const m = M.acct[w.name];
    const r = await call(remote.requestAccountInfo({ account: w.address }), 'account_info ' + w.name);
    const d = r && r.account_data;
    if (!d) { c.ok(w.name + ': account_data', false, show(r)); continue; }
    c.eq(w.name + ': Balance', d.Balance, m.b.SWT.toString());
    c.eq(w.name + ': Sequence', d.Sequence, m.seq);
    c.eq(w.name + ': OwnerCount', d.OwnerCount, m.owners);
  }
  // every holder's lines (one per currency it holds a line in), and each issuer's side of them
  for (const w of HOLDERS) {
    const m = M.acct[w.name];
    const r = await call(remote.requestAccountRelations({ account: w.address, type: 'trust' }), 'account_lines ' + w.name);
    const lines = r && Array.isArray(r.lines) ? r.lines : null;
    if (!lines) { c.ok(w.name + ': lines', false, show(r)); continue; }
    const want = IOUS.filter((cur) => m.lim[cur] !== null).sort();
    c.eq(w.name + ': lines', lines.map((l) => l.currency).sort().join(','), want.join(','));
    for (const cur of want) {
      const l = lines.find((x) => x.currency === cur);
      if (!l) continue;
      c.eq(w.name + ': ' + cur + ' line peer', l.account, ISSUERS[cur].address);
      c.val(w.name + ': ' + cur + ' line balance', l.balance, m.b[cur]);
      c.val(w.name + ': ' + cur + ' line limit', l.limit, m.lim[cur]);
      c.val(w.name + ': ' + cur + ' line limit_peer', l.limit_peer, 0n);
    }
  }
  for (const iw of [...new Set(IOUS.map((cur) => ISSUERS[cur]))]) {
    const r = await call(remote.requestAccountRelations({ account: iw.address, type: 'trust' }), 'account_lines ' + iw.name);
    const li = r && Array.isArray(r.lines) ? r.lines : [];
    const want = [];
    for (const cur of IOUS.filter((x) => ISSUERS[x] === iw)) {
      for (const h of HOLDERS) if (M.acct[h.name].lim[cur] !== null) want.push(h.name + '/' + cur);
    }
    const nameOf = (l) => { const h = byAddr(l.account); return (h ? h.name : l.account) + '/' + l.currency; };
    c.eq(iw.name + ': lines', li.map(nameOf).sort().join(' '), want.sort().join(' '));
    for (const l of li) {
      const h = byAddr(l.account);
      if (!h || !want.includes(nameOf(l))) continue;
      c.val(iw.name + ': line to ' + nameOf(l) + ' balance', l.balance, -M.acct[h.name].b[l.currency]);
      c.val(iw.name + ': line to ' + nameOf(l) + ' limit_peer', l.limit_peer, M.acct[h.name].lim[l.currency]);
    }
  }
}

async function checkOffers(c, who) {
  for (const w of who) {
    const r = await call(remote.requestAccountOffers({ account: w.address }), 'account_offers ' + w.name);
    const got = r && Array.isArray(r.offers) ? r.offers : null;
    if (!got) { c.ok(w.name + ': offers array', false, show(r)); continue; }
    const want = M.offers.filter((o) => o.owner === w.name).sort((a, b) => a.seq - b.seq);
    const seqs = got.map((o) => o.seq).sort((a, b) => a - b);
    c.eq(w.name + ': account_offers sequences', seqs.join(','), want.map((o) => o.seq).join(','));
    for (const o of want) {
      const g = got.find((x) => x.seq === o.seq);
      if (!g) continue;
      c.eq(w.name + ' offer ' + o.seq + ': flags', g.flags, offerFlags(o));
      c.amt(w.name + ' offer ' + o.seq + ': taker_pays', g.taker_pays, o.pays);
      c.amt(w.name + ' offer ' + o.seq + ': taker_gets', g.taker_gets, o.gets);
    }
  }
}

// One side of the book: offers whose TakerPays is `payCur` and TakerGets `getCur`.
// opts.rateFunded: check taker_gets_funded / taker_pays_funded of a book whose currency has a
// transfer rate (the 'bookRate' step does; the other steps leave them to it); opts.issuerEach:
// check owner_funds on every offer of the issuer, not only its first (the 'bookIssuer' step)
async function checkBook(c, payCur, getCur, opts) {
  const side = getCur + ' for ' + payCur;
  const r = await call(remote.requestOrderBook({ taker_pays: { currency: payCur, issuer: issuerOf(payCur) },
    taker_gets: { currency: getCur, issuer: issuerOf(getCur) } }),
    'book_offers ' + side);
  const got = r && Array.isArray(r.offers) ? r.offers : null;
  if (!got) { c.ok('book ' + side + ': offers array', false, show(r)); return; }
  const want = bookOf(payCur, getCur);
  const name = (x) => { const w = byAddr(x.Account); return (w ? w.name : x.Account) + '/' + x.Sequence; };
  c.eq('book ' + side + ': offers in order', got.map(name).join(' '), want.map((o) => o.owner + '/' + o.seq).join(' '));
  const left = {};
  for (let i = 0; i < Math.min(got.length, want.length); i++) {
    const g = got[i], o = want[i], p = 'book ' + side + ' #' + i + ' (' + o.key + ')';
    if (name(g) !== o.owner + '/' + o.seq) continue;
    c.eq(p + ' LedgerEntryType', g.LedgerEntryType, 'Offer');
    c.eq(p + ' Flags', g.Flags, offerFlags(o));
    c.amt(p + ' TakerPays', g.TakerPays, o.pays);
    c.amt(p + ' TakerGets', g.TakerGets, o.gets);
    c.eq(p + ' PreviousTxnID', g.PreviousTxnID, o.last);
    c.ok(p + ' index is 64 hex', HEX64.test(g.index || ''), show(g.index));
    // quality: TakerPays/TakerGets of the placing transaction, SWT in drops, CNY and USD in units
    const scale = (payCur === 'SWT' ? 1 : 1e-6) / (getCur === 'SWT' ? 1 : 1e-6);
    c.near(p + ' quality', Number(g.quality) / scale, o.qn, o.qd);
    // owner funds (skywelld getBookPage): the owner's balance on its first offer of the page, then
    // what its earlier offers leave; with a transfer rate the owner must also pay the rate on what
    // a taker gets (the taker asking is ACCOUNT_ONE, never the issuer)
    // owner_funds as text: SWT in drops, an issued currency in units
    const fundsEq = (what, x, want) => c.eq(what, x, want === undefined ? undefined : getCur === 'SWT' ? want.toString() : fmtV(want));
    if (isIssuer(o.owner, getCur)) {
      // the issuer's own offers: funded by themselves, owner_funds = TakerGets on every one
      if (!(o.owner in left) || (opts && opts.issuerEach)) {
        fundsEq(p + ' owner_funds (the issuer: its TakerGets)', g.owner_funds, o.gets.v);
      }
      c.eq(p + ' taker_gets_funded (the issuer)', g.taker_gets_funded, undefined);
      left[o.owner] = 0n;
      continue;
    }
    const first = !(o.owner in left);
    const f = first ? funds(o.owner, getCur) : left[o.owner];
    const rate = isIssuer(o.owner, getCur) ? null : M.rate[getCur] || null;
    if (first) {
      fundsEq(p + ' owner_funds (first offer of ' + o.owner + ')', g.owner_funds, f);
    } else c.eq(p + ' owner_funds (not the first offer of ' + o.owner + ')', g.owner_funds, undefined);
    const limit = divR(f, rate, 'funds limit ' + o.key);
    const getsFunded = limit < o.gets.v ? limit : o.gets.v;
    if (rate && !(opts && opts.rateFunded)) { /* left to the 'bookRate' step */ } else if (limit < o.gets.v) {
      c.amt(p + ' taker_gets_funded', g.taker_gets_funded, { cur: getCur, v: limit });
      const pf = exactDiv(limit * o.qn, o.qd, 'funded ' + o.key);
      c.amt(p + ' taker_pays_funded', g.taker_pays_funded, { cur: payCur, v: pf < o.pays.v ? pf : o.pays.v });
    } else {
      c.eq(p + ' taker_gets_funded (fully funded)', g.taker_gets_funded, undefined);
      c.eq(p + ' taker_pays_funded (fully funded)', g.taker_pays_funded, undefined);
    }
    const ownerPays = mulR(getsFunded, rate, 'owner pays ' + o.key);
    left[o.owner] = f - (ownerPays < f ? ownerPays : f);
  }
}

async function checkState(c) {
  await checkAccounts(c, ALL);
  await checkOffers(c, HOLDERS);
  for (const cur of IOUS) {
    await checkBook(c, 'SWT', cur); // asks: the currency offered for SWT
    await checkBook(c, cur, 'SWT'); // bids: SWT offered for the currency
  }
  if (modelNotes.length) c.ok('model arithmetic exact (scenario amounts)', false, modelNotes.join('; '));
}

// ---------------------------------------------------------------- processed history
async function historyOf(w) {
  const r = await call(remote.requestAccountTx({ account: w.address, limit: 200 }), 'account_tx ' + w.name);
  if (!r || !Array.isArray(r.transactions)) throw new Error('account_tx ' + w.name + ': no transactions: ' + show(r));
  return r.transactions;
}
let dumpFd = null;
if (process.env.JT_OFFER_DUMP) {
  try { dumpFd = fs.openSync(process.env.JT_OFFER_DUMP, 'w'); } catch (e) { dumpFd = null; }
}
async function entryOf(c, w, hash) {
  const h = await historyOf(w);
  const e = h.find((x) => x.hash === hash);
  if (dumpFd !== null) {
    const k = Object.keys(S).find((x) => S[x] && S[x].hash === hash) || hash;
    try { fs.writeSync(dumpFd, w.name + ' ' + k + ' ' + JSON.stringify(e) + '\n'); } catch (err) { /* ignore */ }
  }
  c.ok(w.name + ': account_tx lists ' + hash, e, h.length + ' entries');
  return e;
}

// jingtum-lib's effect type for an offer_bought: 'bought'/'sold' from the taker's and the
// resting offer's Sell flags (utils.processTx)
const boughtType = (takerSell, restingSell) =>
  ((!takerSell && restingSell) || (takerSell && !restingSell)) ? (restingSell ? 'bought' : 'sold') : (restingSell ? 'sold' : 'bought');

function checkBalancesOf(c, p, e, name, before) {
  const a = M.acct[name];
  // an issuer is a side of every line in its currency: the library reports one of them
  if (a.b.SWT !== before.SWT) c.eq(p + ' balances.SWT', e.balances && e.balances.SWT, Number(a.b.SWT.toString()) / 1000000);
  else c.eq(p + ' balances.SWT (unchanged: absent)', e.balances && e.balances.SWT, undefined);
  for (const cur of IOUS.filter((x) => !isIssuer(name, x))) {
    // a line the transaction created shows its balance even when it is 0 (balancesPrev 0)
    if (a.b[cur] !== before[cur] || (a.lim[cur] !== null && before.lim[cur] === null)) {
      c.eq(p + ' balances.' + cur, e.balances && e.balances[cur], Math.abs(Number(fmtV(a.b[cur]))));
    } else c.eq(p + ' balances.' + cur + ' (unchanged: absent)', e.balances && e.balances[cur], undefined);
  }
}

// jingtum-lib's offer_cancelled effect for an offer taken off the book unfilled (`r` as in
// modelOfferCreate's `removed`)
function checkCancelled(c, q, effects, r) {
  const ef = effects.find((y) => y.effect === 'offer_cancelled' && y.seq === r.seq);
  if (!ef) { c.ok(q, false, 'no offer_cancelled with seq ' + r.seq + ' in ' + show(effects)); return; }
  c.amt(q + ': gets', ef.gets, r.gets);
  c.amt(q + ': pays', ef.pays, r.pays);
  c.eq(q + ': type', ef.type, r.sell ? 'sell' : 'buy');
  c.eq(q + ': hash (PreviousTxnID)', ef.hash, r.last);
  c.eq(q + ': deleted', ef.deleted, true);
}

// The processed entry of an OfferCreate for its sender.
function checkTakerEntry(c, e, w, x, before) {
  const p = w.name + ' history ' + x.label;
  c.eq(p + ' type', e.type, 'offernew');
  c.eq(p + ' result', e.result, x.out.result);
  c.eq(p + ' offertype', e.offertype, x.flags.sell ? 'sell' : 'buy');
  c.eq(p + ' seq', e.seq, x.seq);
  c.eq(p + ' fee', e.fee, '0.01');
  c.amt(p + ' gets (TakerGets)', e.gets, x.gets);
  c.amt(p + ' pays (TakerPays)', e.pays, x.pays);
  const effects = Array.isArray(e.effects) ? e.effects : [];
  if (x.out.result !== 'tesSUCCESS') { // the library stops before effects and balances
    c.eq(p + ' effects (' + x.out.result + ')', effects.length, 0);
    c.eq(p + ' balances (' + x.out.result + ')', e.balances, undefined);
    return;
  }
  const own = x.out.removed.filter((r) => r.owner === w.name);
  const n = x.out.fills.length + (x.out.placed ? 1 : 0) + own.length;
  c.eq(p + ' number of effects', effects.length, n);
  for (const r of own) checkCancelled(c, p + ' offer_cancelled ' + r.key + ' (its own offer, crossed)', effects, r);
  for (const f of x.out.fills) {
    const q = p + ' offer_bought from ' + f.key;
    const ef = effects.find((y) => y.effect === 'offer_bought' && y.counterparty && y.counterparty.seq === f.seq &&
      y.counterparty.account === ALL.find((a) => a.name === f.owner).address);
    if (!ef) { c.ok(q, false, 'no such effect in ' + show(effects)); continue; }
    c.amt(q + ': paid', ef.paid, f.paid);
    c.amt(q + ': got', ef.got, f.got);
    c.eq(q + ': counterparty.hash (the offer\'s PreviousTxnID)', ef.counterparty.hash, f.last);
    const t = boughtType(!!x.flags.sell, f.sell);
    c.eq(q + ': type', ef.type, t);
    if (t === 'bought') c.near(q + ': price (paid/got)', ef.price, f.paid.v, f.got.v);
    else c.near(q + ': price (got/paid)', ef.price, f.got.v, f.paid.v);
    c.eq(q + ': deleted (never for offer_bought)', ef.deleted, undefined);
  }
  if (x.out.placed) {
    const o = x.out.placed, q = p + ' offer_created';
    const ef = effects.find((y) => y.effect === 'offer_created');
    if (!ef) c.ok(q, false, 'no offer_created in ' + show(effects));
    else {
      c.eq(q + ': seq', ef.seq, x.seq);
      c.eq(q + ': type', ef.type, x.flags.sell ? 'sell' : 'buy');
      c.amt(q + ': gets', ef.gets, o.gets);
      c.amt(q + ': pays', ef.pays, o.pays);
    }
  } else c.ok(p + ' no offer_created (nothing placed)', !effects.some((y) => y.effect === 'offer_created'), show(effects));
  if (x.out.fills.length) {
    let sg = 0n, sp = 0n;
    for (const f of x.out.fills) {
      if (f.paid.cur === x.gets.cur) sg += f.paid.v;
      if (f.got.cur === x.pays.cur) sp += f.got.v;
    }
    c.val(p + ' dealGets (paid in all)', e.dealGets && e.dealGets.value, sg);
    c.val(p + ' dealPays (got in all)', e.dealPays && e.dealPays.value, sp);
  } else c.eq(p + ' dealGets (no fill)', e.dealGets, undefined);
  checkBalancesOf(c, p, e, w.name, before[w.name]);
}

// The processed entry of an OfferCreate for the owner of an offer it crossed.
function checkOwnerEntry(c, e, w, x, before) {
  const p = w.name + ' history ' + x.label;
  c.eq(p + ' type', e.type, 'offereffect');
  const effects = Array.isArray(e.effects) ? e.effects : [];
  const mine = x.out.fills.filter((f) => f.owner === w.name);
  const gone = x.out.removed.filter((r) => r.owner === w.name);
  c.eq(p + ' number of effects', effects.length, mine.length + gone.length);
  for (const r of gone) checkCancelled(c, p + ' offer_cancelled ' + r.key + ' (' + r.why + ')', effects, r);
  for (const f of mine) {
    const ef = effects.find((y) => y.seq === f.seq);
    const funded = f.deleted && f.o.gets.v === 0n;
    const q = p + ' ' + (funded ? 'offer_funded' : 'offer_partially_funded') + ' ' + f.key;
    if (!ef) { c.ok(q, false, 'no effect with seq ' + f.seq + ' in ' + show(effects)); continue; }
    c.eq(q + ': effect', ef.effect, funded ? 'offer_funded' : 'offer_partially_funded');
    c.amt(q + ': got', ef.got, f.paid);
    c.amt(q + ': paid', ef.paid, f.got);
    c.eq(q + ': type', ef.type, f.sell ? 'sold' : 'bought');
    c.eq(q + ': counterparty.account', ef.counterparty && ef.counterparty.account, x.w.address);
    c.eq(q + ': counterparty.seq', ef.counterparty && ef.counterparty.seq, x.seq);
    c.eq(q + ': counterparty.hash', ef.counterparty && ef.counterparty.hash, x.hash);
    if (funded) c.eq(q + ': deleted', ef.deleted, true);
    else if (f.deleted) c.eq(q + ': cancelled (owner out of funds)', ef.cancelled, true);
    else {
      c.eq(q + ': remaining (' + (f.o.gets.v > 0n ? 'something left' : 'consumed, still in the ledger') + ')', ef.remaining, f.o.gets.v > 0n);
      c.amt(q + ': gets (left)', ef.gets, f.o.gets);
      c.amt(q + ': pays (left)', ef.pays, f.o.pays);
    }
    if (!f.sell) c.near(q + ': price (paid/got)', ef.price, f.got.v, f.paid.v);
    else c.near(q + ': price (got/paid)', ef.price, f.paid.v, f.got.v);
  }
  checkBalancesOf(c, p, e, w.name, before[w.name]);
}

const snapshot = () => {
  const s = {};
  for (const w of ALL) s[w.name] = Object.assign({ lim: Object.assign({}, M.acct[w.name].lim) }, M.acct[w.name].b);
  return s;
};

// One OfferCreate that may cross: model, submit, then check the result, the state and every
// affected account's processed history.
async function crossStep(c, x) {
  x.seq = M.acct[x.w.name].seq;
  const before = snapshot();
  const flags = [];
  if (x.flags.ioc) flags.push('ImmediateOrCancel');
  if (x.flags.fok) flags.push('FillOrKill');
  if (x.flags.passive) flags.push('Passive');
  const tx = offerTx(x.w, x.flags.sell ? 'Sell' : 'Buy', x.pays, x.gets, flags);
  const s = await submitTx(tx, x.label);
  x.hash = s.hash;
  x.out = modelOfferCreate(x.w.name, x.seq, x.pays, x.gets, x.flags, x.hash);
  if (x.key && x.out.placed) x.out.placed.key = x.key;
  S[x.label] = x;
  // the scenario's own statement of the fills (guards the model)
  if (x.want) {
    const said = x.out.fills.map((f) => f.key + ':' + fmtA(f.got) + ' for ' + fmtA(f.paid)).join(', ') +
      (x.out.placed ? '; placed ' + fmtA(x.out.placed.pays) + ' for ' + fmtA(x.out.placed.gets) : '') +
      (x.out.removed.length ? '; removed ' + x.out.removed.map((r) => r.key + ' (' + r.why + ')').join(', ') : '') +
      (x.out.killed ? '; killed' : '');
    c.must('model agrees with the scenario (' + x.want + ')', said === x.want, said);
  }
  c.eq(x.label + ': submit engine_result', s.submit.engine_result, x.out.result);
  if (/^(tel|tem|tef)/.test(String(s.submit.engine_result))) throw new StepFail();
  const v = await settleAll([x.hash], x.label);
  c.eq(x.label + ': validated TransactionResult', v.get(x.hash).result, x.out.result);
  await checkState(c);
  const e = await entryOf(c, x.w, x.hash);
  if (e) checkTakerEntry(c, e, x.w, x, before);
  for (const owner of [...new Set(x.out.fills.concat(x.out.removed).map((f) => f.owner).filter((o) => o !== x.w.name))]) {
    const w = ALL.find((a) => a.name === owner);
    const oe = await entryOf(c, w, x.hash);
    if (oe) checkOwnerEntry(c, oe, w, x, before);
  }
  // the issuer: in the history of every transaction that moved its currency (its lines changed),
  // in none that changed nothing (offers that only rest or leave the book: the 'issuerTx' step)
  const iou = [x.pays.cur, x.gets.cur].find((cur) => cur !== 'SWT');
  const iw = ISSUERS[iou];
  const ie = (await historyOf(iw)).find((y) => y.hash === x.hash);
  if (x.out.fills.length) {
    c.ok(iw.name + ': account_tx lists ' + x.label, ie, 'absent');
    if (ie) c.eq(iw.name + ' history ' + x.label + ': type', ie.type, 'offereffect');
  } else if (!x.out.placed && !x.out.removed.length) {
    c.ok(iw.name + ': account_tx does not list ' + x.label + ' (nothing in ' + iou + ' changed)', !ie);
  }
}

// ---------------------------------------------------------------- steps
const S = {};
const steps = [];
// needs: the steps whose transactions make the state a step starts from (each phase starts from
// the end of the one before); a step that only reads needs the step whose state it reads
const step = (id, name, needs, fn) => steps.push({ id, name, needs, fn });

step('connect', 'connect', [], async (c) => {
  const res = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('connect: no subscribe answer within 8 s')), 8000);
    remote.connect((err, result) => { clearTimeout(timer); if (err) reject(new Error('connect: ' + errText(err))); else resolve(result); });
  });
  c.must('subscribe result is an object', res && typeof res === 'object', show(res));
  c.eq('reserve_base', res.reserve_base, Number(RESERVE_BASE));
  c.eq('reserve_inc', res.reserve_inc, Number(RESERVE_INC));
  remote.on('transactions', onTransactions);
});

step('fund', 'fund: genesis pays 1000 SWT to I, I2, M1, M2, T, U and V, 11.52 SWT to W', ['connect'], async (c) => {
  const info = await call(remote.requestAccountInfo({ account: G.address }), 'account_info genesis');
  c.must('genesis account_data', info && info.account_data, show(info));
  M.acct.genesis = newAcct();
  M.acct.genesis.b.SWT = BigInt(info.account_data.Balance);
  M.acct.genesis.seq = info.account_data.Sequence;
  const items = [];
  for (const w of ALL) {
    const amount = w === W ? swt('11.52') : swt(1000);
    items.push({ tx: paymentTx(G, w, amount), label: 'fund ' + w.name, want: 'tesSUCCESS' });
    fee('genesis');
    M.acct[w.name].b.SWT = amount.v;
  }
  await submitBatch(c, items);
  await checkAccounts(c, ALL);
});

step('trust', 'trust: M1, M2, T, U, W trust I for 10000 CNY (buildRelationTx trust); V does not', ['fund'], async (c) => {
  const items = [];
  for (const w of [M1, M2, T, U, W]) {
    items.push({ tx: trustTx(w, cny(10000)), label: 'TrustSet ' + w.name, want: 'tesSUCCESS' });
    fee(w.name);
    M.acct[w.name].owners += 1;
    M.acct[w.name].lim.CNY = cny(10000).v;
  }
  await submitBatch(c, items);
  await checkAccounts(c, ALL);
});

step('issue', 'issue: I pays M1 200, M2 80, U 50 CNY', ['trust'], async (c) => {
  const items = [];
  for (const [w, v] of [[M1, 200], [M2, 80], [U, 50]]) {
    items.push({ tx: paymentTx(I, w, cny(v)), label: 'issue ' + v + ' CNY to ' + w.name, want: 'tesSUCCESS' });
    fee('I');
    M.acct[w.name].b.CNY += cny(v).v;
  }
  await submitBatch(c, items);
  await checkAccounts(c, ALL);
});

// The resting book (price = SWT per CNY):
//   asks (CNY offered for SWT): a1 M1 Sell 50 CNY for 100 SWT (2), a2 M2 Buy 100 SWT for 40 CNY
//   (2.5), a3 M2 Sell 50 CNY for 150 SWT (3; M2 holds 80 CNY, 40 of them behind a2: funded
//   40 CNY / 120 SWT), c1 M1 Sell 10 CNY for 100 SWT (10, cancelled next);
//   bids (SWT offered for CNY): b1 M1 Buy 20 CNY for 25 SWT (1.25), b2 M2 Sell 20 SWT for
//   20 CNY (1).
const RESTING = [
  ['a1', M1, 'Sell', cny(50), swt(100)], // [key, owner, type, TakerGets, TakerPays]
  ['a2', M2, 'Buy', cny(40), swt(100)],
  ['a3', M2, 'Sell', cny(50), swt(150)],
  ['c1', M1, 'Sell', cny(10), swt(100)],
  ['b1', M1, 'Buy', swt(25), cny(20)],
  ['b2', M2, 'Sell', swt(20), cny(20)],
];

step('place', 'place: six resting offers (buildOfferCreateTx Sell and Buy, four price levels a side)', ['issue'], async (c) => {
  const items = [];
  const before = snapshot();
  for (const [key, w, type, gets, pays] of RESTING) {
    const it = { label: 'offer ' + key, key, w, seq: M.acct[w.name].seq, gets, pays, sell: type === 'Sell' };
    const s = await submitTx(offerTx(w, type, pays, gets), it.label);
    c.eq(it.label + ': submit engine_result', s.submit.engine_result, 'tesSUCCESS');
    it.hash = s.hash;
    it.out = modelOfferCreate(w.name, it.seq, pays, gets, { sell: it.sell }, it.hash);
    c.must('model: ' + key + ' rests', it.out.placed && !it.out.fills.length, show(it.out));
    it.out.placed.key = key;
    S[key] = it;
    items.push(it);
  }
  const v = await settleAll(items.map((it) => it.hash), 'offers');
  for (const it of items) c.eq(it.label + ': validated TransactionResult', v.get(it.hash).result, 'tesSUCCESS');
  await checkState(c);
  // history: each placement is an offernew with one offer_created effect
  for (const w of [M1, M2]) {
    const h = await historyOf(w);
    for (const it of items.filter((x) => x.w === w)) {
      const e = h.find((x) => x.hash === it.hash);
      const p = w.name + ' history offer ' + it.key;
      if (!e) { c.ok(p + ': listed', false, h.length + ' entries'); continue; }
      c.eq(p + ' type', e.type, 'offernew');
      c.eq(p + ' offertype', e.offertype, it.sell ? 'sell' : 'buy');
      c.eq(p + ' seq', e.seq, it.seq);
      c.amt(p + ' gets', e.gets, it.gets);
      c.amt(p + ' pays', e.pays, it.pays);
      const ef = e.effects || [];
      c.eq(p + ' effects', ef.map((y) => y.effect).join(','), 'offer_created');
      if (ef[0]) {
        c.eq(p + ' offer_created seq', ef[0].seq, it.seq);
        c.eq(p + ' offer_created type', ef[0].type, it.sell ? 'sell' : 'buy');
        c.amt(p + ' offer_created gets', ef[0].gets, it.gets);
        c.amt(p + ' offer_created pays', ef[0].pays, it.pays);
      }
      c.eq(p + ' dealGets (no fill)', e.dealGets, undefined);
    }
    // the three placements of one account share a ledger: each saw one, two or three fees taken
    const after = [1n, 2n, 3n].map((k) => Number((before[w.name].SWT - k * FEE).toString()) / 1e6);
    for (const it of items.filter((x) => x.w === w)) {
      const e = h.find((x) => x.hash === it.hash);
      if (e) c.ok(w.name + ' history offer ' + it.key + ' balances.SWT is one of ' + after.join('/'),
        after.includes(e.balances && e.balances.SWT), show(e.balances));
    }
  }
});

step('placeMeta', 'placement metadata: AccountRoot, Offer and two DirectoryNodes; no trust line (funds are only read)', ['place'], async (c) => {
  // skywelld: the owner's AccountRoot, the Offer, its owner directory and book directory; the
  // funds check reads the trust line (entryCache), which never enters the metadata
  for (const it of RESTING.map(([k]) => S[k])) {
    const r = await call(remote.requestTx({ hash: it.hash }), 'tx ' + it.key);
    const nodes = (r && r.meta && Array.isArray(r.meta.AffectedNodes) ? r.meta.AffectedNodes : []).map((n) => {
      const k = Object.keys(n)[0];
      return k.replace('Node', '') + ' ' + n[k].LedgerEntryType;
    }).sort();
    const dirs = nodes.filter((x) => / DirectoryNode$/.test(x)).length;
    c.eq('tx ' + it.key + ': AffectedNodes other than its directories', nodes.filter((x) => !/ DirectoryNode$/.test(x)).join(', '),
      'Created Offer, Modified AccountRoot');
    c.eq('tx ' + it.key + ': DirectoryNodes (owner and book)', dirs, 2);
  }
});

step('cancel', 'cancel: M1 cancels c1 (buildOfferCancelTx): offercancel, offer_cancelled', ['place'], async (c) => {
  const it = { tx: cancelTx(M1, S.c1.seq), label: 'cancel c1', want: 'tesSUCCESS', seq: M.acct.M1.seq };
  const before = snapshot();
  const o = modelOfferCancel('M1', S.c1.seq);
  c.must('model: c1 rests', o, 'no c1');
  await submitBatch(c, [it]);
  S.cancelC1 = it;
  await checkState(c);
  const e = await entryOf(c, M1, it.hash);
  if (!e) return;
  const p = 'M1 history cancel c1';
  c.eq(p + ' type', e.type, 'offercancel');
  c.amt(p + ' gets (of the cancelled offer)', e.gets, o.gets);
  c.amt(p + ' pays (of the cancelled offer)', e.pays, o.pays);
  const ef = e.effects || [];
  c.eq(p + ' effects', ef.map((y) => y.effect).join(','), 'offer_cancelled');
  if (ef[0]) {
    c.eq(p + ' offer_cancelled seq', ef[0].seq, o.seq);
    c.eq(p + ' offer_cancelled hash (PreviousTxnID: the placing tx)', ef[0].hash, S.c1.hash);
    c.eq(p + ' offer_cancelled type', ef[0].type, 'sell');
    c.amt(p + ' offer_cancelled gets', ef[0].gets, o.gets);
    c.amt(p + ' offer_cancelled pays', ef[0].pays, o.pays);
    c.eq(p + ' offer_cancelled deleted', ef[0].deleted, true);
  }
  checkBalancesOf(c, p, e, 'M1', before.M1);
});

step('issuerTx', 'issuer history: offers placed or cancelled in its currency are listed (skywelld indexes the TakerPays/TakerGets issuer)', ['place'], async (c) => {
  const h = await historyOf(I);
  for (const k of ['a1', 'a2', 'a3', 'c1', 'b1', 'b2', 'cancelC1']) {
    if (!S[k] || !S[k].hash) continue;
    const e = h.find((x) => x.hash === S[k].hash);
    c.ok('I: account_tx lists ' + k, e, 'absent (' + h.length + ' entries)');
    if (e) c.eq('I history ' + k + ' type', e.type, 'offereffect');
  }
});

step('cancelAgain', 'cancel again: M1 cancels c1 a second time: tesSUCCESS, fee and sequence only', ['place'], async (c) => {
  const it = { tx: cancelTx(M1, S.c1.seq), label: 'cancel c1 again', want: 'tesSUCCESS' };
  const before = snapshot();
  c.must('model: c1 is gone', !modelOfferCancel('M1', S.c1.seq));
  await submitBatch(c, [it]);
  await checkAccounts(c, [M1]);
  await checkOffers(c, [M1]);
  const e = await entryOf(c, M1, it.hash);
  if (!e) return;
  c.eq('M1 history cancel again type', e.type, 'offercancel');
  c.eq('M1 history cancel again effects', (e.effects || []).length, 0);
  checkBalancesOf(c, 'M1 history cancel again', e, 'M1', before.M1);
});

// The crossings. `want` states each fill as "offer:got by the taker for paid by the taker".
step('X1', 'X1 full fill: T Buy 10 CNY for at most 25 SWT takes 10 CNY of a1 at its price 2: pays 20 SWT, nothing rests', ['place'], async (c) => {
  await crossStep(c, { label: 'X1', w: T, flags: {}, pays: cny(10), gets: swt(25), want: 'a1:10 CNY for 20 SWT' });
});

step('X2', 'X2 partial fill across two levels: T Buy 100 CNY for at most 250 SWT takes a1 (40 @2) and a2 (40 @2.5), 20 CNY rest as a bid at 2.5', ['X1'], async (c) => {
  await crossStep(c, { label: 'X2', w: T, flags: {}, pays: cny(100), gets: swt(250),
    want: 'a1:40 CNY for 80 SWT, a2:40 CNY for 100 SWT; placed 20 CNY for 50 SWT' });
});

step('X3', 'X3 IOC: U Sell+IOC 50 CNY for at least 100 SWT takes T\'s bid (20 CNY @2.5 = 50 SWT); b1 at 1.25 is below its price; 30 CNY do not rest', ['X2'], async (c) => {
  await crossStep(c, { label: 'X3', w: U, flags: { sell: true, ioc: true }, pays: swt(100), gets: cny(50),
    want: 'T/' + S.X2.seq + ':50 SWT for 20 CNY' });
});

step('X4', 'X4 Sell: U Sell 10 CNY for at least 10 SWT gets b1\'s price 1.25: 12.5 SWT, more than it asked', ['X3'], async (c) => {
  await crossStep(c, { label: 'X4', w: U, flags: { sell: true }, pays: swt(10), gets: cny(10),
    want: 'b1:12.5 SWT for 10 CNY' });
});

step('X5', 'X5 FOK that cannot fill: U Buy+FOK 60 CNY for at most 200 SWT; a3 holds only 40 funded CNY: killed, fee and sequence only', ['X4'], async (c) => {
  await crossStep(c, { label: 'X5', w: U, flags: { fok: true }, pays: cny(60), gets: swt(200), want: '; killed' });
});

step('X6', 'X6 FOK that fills: U Buy+FOK 30 CNY for at most 90 SWT takes 30 CNY of a3 at exactly its price 3', ['X5'], async (c) => {
  await crossStep(c, { label: 'X6', w: U, flags: { fok: true }, pays: cny(30), gets: swt(90),
    want: 'a3:30 CNY for 90 SWT' });
});

step('cancelFilled', 'cancel partly filled offers: M1 cancels b1 (10 CNY / 12.5 SWT left), M2 cancels a3 (20 CNY / 60 SWT left)', ['X6'], async (c) => {
  const before = snapshot();
  const b1 = M.offers.find((o) => o.key === 'b1'), a3 = M.offers.find((o) => o.key === 'a3');
  c.must('model: b1 and a3 rest', b1 && a3);
  const items = [
    { tx: cancelTx(M1, b1.seq), label: 'cancel b1', want: 'tesSUCCESS', w: M1, o: clone(b1) },
    { tx: cancelTx(M2, a3.seq), label: 'cancel a3', want: 'tesSUCCESS', w: M2, o: clone(a3) },
  ];
  modelOfferCancel('M1', b1.seq);
  modelOfferCancel('M2', a3.seq);
  await submitBatch(c, items);
  await checkState(c);
  for (const it of items) {
    const e = await entryOf(c, it.w, it.hash);
    if (!e) continue;
    const p = it.w.name + ' history ' + it.label;
    c.eq(p + ' type', e.type, 'offercancel');
    const ef = e.effects || [];
    c.eq(p + ' effects', ef.map((y) => y.effect).join(','), 'offer_cancelled');
    if (ef[0]) {
      c.eq(p + ' offer_cancelled seq', ef[0].seq, it.o.seq);
      c.eq(p + ' offer_cancelled hash (PreviousTxnID: the last fill)', ef[0].hash, it.o.last);
      c.amt(p + ' offer_cancelled gets (what was left)', ef[0].gets, it.o.gets);
      c.amt(p + ' offer_cancelled pays (what was left)', ef[0].pays, it.o.pays);
      c.eq(p + ' offer_cancelled type', ef[0].type, it.o.sell ? 'sell' : 'buy');
    }
    checkBalancesOf(c, p, e, it.w.name, before[it.w.name]);
  }
});

// want: per account, [[keys of transactions in one ledger (any order among them)], type], newest
// ledger first; other transactions of the account are ignored
async function checkHistories(c, want) {
  const known = new Map(Object.keys(S).filter((k) => S[k] && S[k].hash).map((k) => [S[k].hash, k]));
  for (const name of Object.keys(want)) {
    const w = ALL.find((a) => a.name === name);
    const h = await historyOf(w);
    const keys = new Set([].concat(...want[name].map(([ks]) => ks)));
    const norm = (list) => list.map(([ks, t]) => ks.slice().sort().join('+') + ':' + t).join(' ');
    const got = [];
    for (const e of h.filter((x) => keys.has(known.get(x.hash)))) {
      const k = known.get(e.hash);
      const group = want[name].find(([ks]) => ks.includes(k));
      const last = got[got.length - 1];
      if (last && group[0].includes(last[0][0]) && last[1] === e.type) last[0].push(k);
      else got.push([[k], e.type]);
    }
    c.eq(name + ': offer transactions in account_tx, newest first', norm(got), norm(want[name]));
  }
}

step('histories', 'histories: each account\'s processed account_tx, newest first', ['X6'], async (c) => {
  await checkHistories(c, {
    T: [[['X3'], 'offereffect'], [['X2'], 'offernew'], [['X1'], 'offernew']],
    U: [[['X6'], 'offernew'], [['X5'], 'offernew'], [['X4'], 'offernew'], [['X3'], 'offernew']],
    M1: [[['X4'], 'offereffect'], [['X2'], 'offereffect'], [['X1'], 'offereffect'], [['cancelC1'], 'offercancel'],
      [['a1', 'c1', 'b1'], 'offernew']],
    M2: [[['X6'], 'offereffect'], [['X2'], 'offereffect'], [['a2', 'a3', 'b2'], 'offernew']],
  });
  const ht = await historyOf(T);
  c.ok('T: the killed FOK X5 is not in T\'s history', !ht.some((e) => e.hash === S.X5.hash));
  const hi = await historyOf(I);
  c.ok('I: not in the history of the killed FOK X5 (only U\'s AccountRoot changed)', !hi.some((e) => e.hash === S.X5.hash));
});

// Phase 2: rules of skywelld's offer stream. The asks are empty again; b2 still bids 1.
step('place2', 'place d1 (M1 Sell 20 CNY for 60 SWT, 3) and d2 (M2 Sell 10 CNY for 25 SWT, 2.5: all of M2\'s CNY)', ['cancelFilled'], async (c) => {
  await crossStep(c, { label: 'd1', key: 'd1', w: M1, flags: { sell: true }, pays: swt(60), gets: cny(20), want: '; placed 60 SWT for 20 CNY' });
  await crossStep(c, { label: 'd2', key: 'd2', w: M2, flags: { sell: true }, pays: swt(25), gets: cny(10), want: '; placed 25 SWT for 10 CNY' });
});

step('redeem', 'M2 pays its 10 CNY back to I: d2 stays in the book unfunded (owner_funds 0, taker_gets_funded 0)', ['place2'], async (c) => {
  const it = { tx: paymentTx(M2, I, cny(10)), label: 'M2 pays I 10 CNY', want: 'tesSUCCESS' };
  fee('M2');
  M.acct.M2.b.CNY -= cny(10).v;
  await submitBatch(c, [it]);
  await checkState(c);
});

step('X7', 'X7 FOK over an unfunded offer: V Buy+FOK 30 CNY for at most 90 SWT; d2 (unfunded, found so) is removed, d1 holds 20: killed, d2 stays removed', ['redeem'], async (c) => {
  await crossStep(c, { label: 'X7', w: V, flags: { fok: true }, pays: cny(30), gets: swt(90), want: '; removed d2 (unfunded); killed' });
});

step('X8', 'X8 a taker without a trust line: V Buy 5 CNY for at most 15 SWT takes 5 CNY of d1; the crossing creates V\'s line (limit 0)', ['X7'], async (c) => {
  await crossStep(c, { label: 'X8', w: V, flags: {}, pays: cny(5), gets: swt(15), want: 'd1:5 CNY for 15 SWT' });
});

step('X9', 'X9 crossing its own offer: M1 Buy 5 CNY for at most 20 SWT meets its own d1 first: d1 is cancelled, the bid rests', ['X8'], async (c) => {
  await crossStep(c, { label: 'X9', w: M1, flags: {}, pays: cny(5), gets: swt(20), want: '; placed 5 CNY for 20 SWT; removed d1 (own)' });
});

// Phase 3: failures and the reserve.
step('X10', 'X10 unfunded: M2, holding no CNY, Sell 5 CNY for 10 SWT: tecUNFUNDED_OFFER, fee and sequence only', ['redeem'], async (c) => {
  await crossStep(c, { label: 'X10', w: M2, flags: { sell: true }, pays: swt(10), gets: cny(5), want: '' });
});

step('X11', 'X11 reserve: W (11.51 SWT, one line) Buy 1 CNY for 0.1 SWT crosses nothing and cannot reserve an offer (12 SWT): tecINSUF_RESERVE_OFFER', ['X10'], async (c) => {
  await crossStep(c, { label: 'X11', w: W, flags: {}, pays: cny(1), gets: swt('0.1'), want: '' });
});

step('X12', 'X12 crossed, then short of reserve: M1 rests e1 (Sell 0.02 CNY for 0.1 SWT, 5); W Buy 0.2 CNY for at most 1.2 SWT takes e1 whole; the remainder does not rest: tesSUCCESS', ['X11'], async (c) => {
  await crossStep(c, { label: 'e1', key: 'e1', w: M1, flags: { sell: true }, pays: swt('0.1'), gets: cny('0.02'), want: '; placed 0.1 SWT for 0.02 CNY' });
  await crossStep(c, { label: 'X12', w: W, flags: {}, pays: cny('0.2'), gets: swt('1.2'), want: 'e1:0.02 CNY for 0.1 SWT' });
});

step('histories2', 'histories of phase 2: account_tx, newest first', ['X9'], async (c) => {
  await checkHistories(c, {
    V: [[['X8'], 'offernew'], [['X7'], 'offernew']],
    M1: [[['X9'], 'offernew'], [['X8'], 'offereffect'], [['d1'], 'offernew']],
    M2: [[['X7'], 'offereffect'], [['d2'], 'offernew']],
  });
});

// Phase 4: a transfer rate. I2 charges 1.25 on USD passed between others: in a crossing the
// sender of USD pays it (the maker on what the taker gets, the taker on what it gives), and the
// book shows an offer funded by what its owner can pay with the rate.
step('rate', 'rate: I2 sets TransferRate 1.25 (setTransferRate 0.25); M1 and T trust I2 for 1000 USD; I2 pays M1 50 USD', ['X12'], async (c) => {
  const set = remote.buildAccountSetTx({ type: 'property', account: I2.address });
  const err = set.setTransferRate(0.25);
  c.must('setTransferRate(0.25)', !(err instanceof Error), errText(err));
  const items = [{ tx: signed(set, I2), label: 'AccountSet I2 TransferRate', want: 'tesSUCCESS' }];
  fee('I2');
  for (const w of [M1, T]) {
    items.push({ tx: signed(remote.buildRelationTx({ type: 'trust', account: w.address, limit: libAmount(usd(1000)) }), w),
      label: 'TrustSet ' + w.name + ' USD', want: 'tesSUCCESS' });
    fee(w.name);
    M.acct[w.name].owners += 1;
    M.acct[w.name].lim.USD = usd(1000).v;
  }
  await submitBatch(c, items);
  M.rate.USD = [125n, 100n];
  const r = await call(remote.requestAccountInfo({ account: I2.address }), 'account_info I2');
  c.eq('I2: TransferRate', r && r.account_data && r.account_data.TransferRate, 1250000000);
  const pay = { tx: paymentTx(I2, M1, usd(50)), label: 'issue 50 USD to M1', want: 'tesSUCCESS' };
  fee('I2');
  M.acct.M1.b.USD += usd(50).v;
  await submitBatch(c, [pay]);
  await checkState(c);
});

step('f', 'f1, f2: M1 rests Sell 40 USD for 80 SWT (2) and Sell 20 USD for 60 SWT (3), with 50 USD', ['rate'], async (c) => {
  await crossStep(c, { label: 'f1', key: 'f1', w: M1, flags: { sell: true }, pays: swt(80), gets: usd(40), want: '; placed 80 SWT for 40 USD' });
  await crossStep(c, { label: 'f2', key: 'f2', w: M1, flags: { sell: true }, pays: swt(60), gets: usd(20), want: '; placed 60 SWT for 20 USD' });
});

step('bookRate', 'book with a transfer rate: M1\'s 50 USD at 1.25 fund f1 (40 USD) exactly; f2 shows taker_gets_funded 0, taker_pays_funded 0 (skywelld getBookPage)', ['f'], async (c) => {
  await checkBook(c, 'SWT', 'USD', { rateFunded: true });
});

step('Y1', 'Y1 the maker pays the rate: T Buy 10 USD for at most 25 SWT takes 10 USD of f1 for 20 SWT; M1 gives 12.5 USD', ['f'], async (c) => {
  await crossStep(c, { label: 'Y1', w: T, flags: {}, pays: usd(10), gets: swt(25), want: 'f1:10 USD for 20 SWT' });
});

step('Y2', 'Y2 the taker pays the rate: M2 (no USD line) rests g1 Buy 12 USD for 15 SWT (1.25); T Sell+IOC 10 USD for at least 10 SWT: its 10 USD pay 8 to M2 (whose line the crossing creates) and 2 to the rate, for 10 SWT', ['Y1'], async (c) => {
  await crossStep(c, { label: 'g1', key: 'g1', w: M2, flags: {}, pays: usd(12), gets: swt(15), want: '; placed 12 USD for 15 SWT' });
  await crossStep(c, { label: 'Y2', w: T, flags: { sell: true, ioc: true }, pays: swt(10), gets: usd(10), want: 'g1:10 SWT for 8 USD' });
});

step('histories3', 'histories of phase 4: account_tx, newest first', ['Y2'], async (c) => {
  await checkHistories(c, {
    T: [[['Y2'], 'offernew'], [['Y1'], 'offernew']],
    M1: [[['Y1'], 'offereffect'], [['f2'], 'offernew'], [['f1'], 'offernew']],
    M2: [[['Y2'], 'offereffect'], [['g1'], 'offernew']],
  });
});

// Phase 5: auto-bridging. GBP for EUR (both issued by I) crosses the direct book and the two
// books through SWT (GBP for SWT, then SWT for EUR), the better quality first, a tie to the
// bridge (rippled 0.28 bridged_cross).
//   leg 1 (GBP for SWT): h1 M2 Buy 10 GBP for 20 SWT (0.5 GBP/SWT), h2 M2 Buy 10 GBP for 10 SWT (1)
//   leg 2 (SWT for EUR): k1 M1 Sell 10 EUR for 20 SWT (2 SWT/EUR), k2 M1 Sell 5 EUR for 10 SWT (2)
//   direct (GBP for EUR): j1 U Sell 5 EUR for 5 GBP (1 GBP/EUR)
//   bridges: h1+k1 = 1 GBP/EUR (ties j1), h2+k2 = 2 GBP/EUR
step('bridgeSetup', 'bridge setup: M1, U and T trust I for EUR, T for GBP; I pays M1 20 EUR, U 10 EUR, T 30 GBP; h1, h2, k1, k2, j1 rest', ['Y2'], async (c) => {
  const items = [];
  for (const [w, cur] of [[M1, 'EUR'], [U, 'EUR'], [T, 'EUR'], [T, 'GBP']]) {
    const limit = { cur, v: 1000n * M6 };
    items.push({ tx: signed(remote.buildRelationTx({ type: 'trust', account: w.address, limit: libAmount(limit) }), w),
      label: 'TrustSet ' + w.name + ' ' + cur, want: 'tesSUCCESS' });
    fee(w.name);
    M.acct[w.name].owners += 1;
    M.acct[w.name].lim[cur] = limit.v;
  }
  await submitBatch(c, items);
  const pays = [];
  for (const [w, a] of [[M1, eur(20)], [U, eur(10)], [T, gbp(30)]]) {
    pays.push({ tx: paymentTx(I, w, a), label: 'issue ' + fmtA(a) + ' to ' + w.name, want: 'tesSUCCESS' });
    fee('I');
    M.acct[w.name].b[a.cur] += a.v;
  }
  await submitBatch(c, pays);
  await crossStep(c, { label: 'h1', key: 'h1', w: M2, flags: {}, pays: gbp(10), gets: swt(20), want: '; placed 10 GBP for 20 SWT' });
  await crossStep(c, { label: 'h2', key: 'h2', w: M2, flags: {}, pays: gbp(10), gets: swt(10), want: '; placed 10 GBP for 10 SWT' });
  await crossStep(c, { label: 'k1', key: 'k1', w: M1, flags: { sell: true }, pays: swt(20), gets: eur(10), want: '; placed 20 SWT for 10 EUR' });
  await crossStep(c, { label: 'k2', key: 'k2', w: M1, flags: { sell: true }, pays: swt(10), gets: eur(5), want: '; placed 10 SWT for 5 EUR' });
  await crossStep(c, { label: 'j1', key: 'j1', w: U, flags: { sell: true }, pays: gbp(5), gets: eur(5), want: '; placed 5 GBP for 5 EUR' });
});

step('Z1', 'Z1 bridge on a tie: T Buy 12 EUR for at most 14.4 GBP: h1+k1 (1, ties j1) first, 10 EUR for 10 GBP through 20 SWT; then j1 2 EUR for 2 GBP', ['bridgeSetup'], async (c) => {
  await crossStep(c, { label: 'Z1', w: T, flags: {}, pays: eur(12), gets: gbp('14.4'),
    want: 'h1:20 SWT for 10 GBP, k1:10 EUR for 20 SWT, j1:2 EUR for 2 GBP' });
});

step('Z2', 'Z2 direct before a worse bridge: T Buy 8 EUR for at most 16 GBP: j1 (3 EUR at 1), then h2+k2 (2): the first leg\'s book runs out, and the consumed k2 goes too (rippled 0.28 left it at 0/0)', ['Z1'], async (c) => {
  await crossStep(c, { label: 'Z2', w: T, flags: {}, pays: eur(8), gets: gbp(16),
    want: 'j1:3 EUR for 3 GBP, h2:10 SWT for 10 GBP, k2:5 EUR for 10 SWT' });
});

step('Z3', 'Z3 the book k2 was in is empty: V Buy 1 EUR for at most 4 SWT takes nothing and rests', ['Z2'], async (c) => {
  await crossStep(c, { label: 'Z3', w: V, flags: {}, pays: eur(1), gets: swt(4), want: '; placed 1 EUR for 4 SWT' });
});

step('histories5', 'histories of phase 5: account_tx, newest first', ['Z3'], async (c) => {
  await checkHistories(c, {
    T: [[['Z2'], 'offernew'], [['Z1'], 'offernew']],
    M1: [[['Z2'], 'offereffect'], [['Z1'], 'offereffect'], [['k2'], 'offernew'], [['k1'], 'offernew']],
    M2: [[['Z2'], 'offereffect'], [['Z1'], 'offereffect'], [['h2'], 'offernew'], [['h1'], 'offernew']],
    U: [[['Z2'], 'offereffect'], [['Z1'], 'offereffect'], [['j1'], 'offernew']],
  });
});

// Phase 6: Passive offers and the issuer's own offers (CNY book: bids M1 5 CNY at 4, b2 at 1).
step('passive', 'passive: U Sell+Passive 5 CNY for 20 SWT (4) does not take M1\'s bid at its own price and rests; T Sell+Passive 5 CNY for at least 15 SWT (3) takes it: 20 SWT', ['Z3'], async (c) => {
  const bid = M.offers.find((o) => o.key === 'M1/' + S.X9.seq);
  c.must('model: M1\'s bid from X9 rests', bid);
  await crossStep(c, { label: 'P1', key: 'p1', w: U, flags: { sell: true, passive: true }, pays: swt(20), gets: cny(5), want: '; placed 20 SWT for 5 CNY' });
  await crossStep(c, { label: 'P2', w: T, flags: { sell: true, passive: true }, pays: swt(15), gets: cny(5), want: bid.key + ':20 SWT for 5 CNY' });
});

step('issuerOffers', 'issuer offers: I Sell 10 CNY for 30 SWT (3) and 10 CNY for 40 SWT (4, after U\'s p1 at 4): always funded', ['passive'], async (c) => {
  await crossStep(c, { label: 'i1', key: 'i1', w: I, flags: { sell: true }, pays: swt(30), gets: cny(10), want: '; placed 30 SWT for 10 CNY' });
  await crossStep(c, { label: 'i2', key: 'i2', w: I, flags: { sell: true }, pays: swt(40), gets: cny(10), want: '; placed 40 SWT for 10 CNY' });
});

step('bookIssuer', 'book of the issuer\'s offers: owner_funds (its TakerGets) on each of them (skywelld getBookPage never counts the issuer as seen)', ['issuerOffers'], async (c) => {
  await checkBook(c, 'SWT', CUR, { issuerEach: true });
});

step('X13', 'X13 buying from the issuer: V Buy 20 CNY for at most 80 SWT takes i1 (10 at 3), then at 4 p1 before i2 (time order): 5 and 5', ['issuerOffers'], async (c) => {
  await crossStep(c, { label: 'X13', w: V, flags: {}, pays: cny(20), gets: swt(80), want: 'i1:10 CNY for 30 SWT, p1:5 CNY for 20 SWT, i2:5 CNY for 20 SWT' });
});

// ---------------------------------------------------------------- runner
async function main() {
  remote = new Remote({ server: URL, local_sign: true });
  if (remote.type instanceof Error) { say('not ok ' + TAG + ' Remote: ' + remote.type.message); process.exit(1); }
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
    const label = TAG + ' ' + st.name;
    const missing = st.needs.filter((n) => !passed.has(n));
    if (missing.length && !RUN_ALL) {
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
      passed.add(st.id);
    } else {
      failed++;
      say('not ok ' + label + (missing.length ? ' (run after ' + missing.join(', ') + ' failed)' : '') + ': ' + fails[0]);
      for (const f of fails.slice(1, 40)) say('#   ' + f);
      if (fails.length > 40) say('#   … ' + (fails.length - 40) + ' more');
    }
  }
  say('# ' + TAG + ': ' + (steps.length - failed) + '/' + steps.length + ' steps passed in ' +
    ((Date.now() - T0) / 1000).toFixed(1) + ' s (ledger_accept ' + acceptState + ')');
  try { remote.disconnect(); } catch (e) { /* ignore */ }
  if (traceFd !== null) fs.closeSync(traceFd);
  process.exit(failed ? 1 : 0);
}

main().catch((e) => { say('not ok ' + TAG + ' scenario crashed: ' + (e && e.stack || e)); process.exit(1); });
