// diff.js — differential test of libjt against jingtum-lib 2.4.15 and @swtc/* 1.1.x.
//
//   node diff.js DRIVER          (DRIVER = build/…/tests/jt-interop-driver)
//   JT_INTEROP_SEED=N            reproduce a run (the seed is printed as "# seed N")
//   JT_INTEROP_N=N               transactions per type (default 1000)
//
// Direction 1: random transactions of every type the JS libraries build are signed by
// jingtum-lib (secp256k1) or @swtc/transaction (ed25519, and secp256k1 as a cross-check);
// the C driver decodes, re-encodes, hashes and verifies each blob; its JSON must agree with
// @swtc/serializer's decoding and with what the generator asked for.
// Direction 2: libjt signs the same transaction from its canonical (skywelld) JSON; the blob
// must be byte-identical to the JS one (RFC 6979 / Ed25519 are deterministic), decode in
// @swtc/serializer to the same fields and verify with @swtc/keypairs.
// PROTOCOL.md §7 cases where the libraries are wrong are counted as expected disagreements
// and checked against the correct result instead.
'use strict';
const crypto = require('crypto');
const { spawnSync } = require('child_process');

const DRIVER = process.argv[2] || process.env.JT_INTEROP_DRIVER;
if (!DRIVER) { console.error('usage: node diff.js DRIVER'); process.exit(2); }
const N = Number(process.env.JT_INTEROP_N || 1000);
const SEED = process.env.JT_INTEROP_SEED !== undefined && process.env.JT_INTEROP_SEED !== ''
  ? Number(process.env.JT_INTEROP_SEED) >>> 0 : crypto.randomBytes(4).readUInt32BE(0);

const say = (s) => process.stdout.write(s + '\n');
say('# seed ' + SEED + '  (JT_INTEROP_SEED=' + SEED + ' reproduces this run)');
const T0 = Date.now();

// jingtum-lib prints "Get tx type: …" on every serialization: silence console.log.
console.log = () => {};
const jlib = require('jingtum-lib');
const JBL = require('jingtum-base-lib');
const JlSer = require('jingtum-lib/lib/Serializer').Serializer;
const JlTypes = require('jingtum-lib/lib/TypesUtils');
const { Transaction: SwtcTx } = require('@swtc/transaction');
const { Serializer: SwtcSer } = require('@swtc/serializer');
const { Keypairs } = require('@swtc/keypairs');
const { addressCodec } = require('@swtc/address-codec');
const remote = new jlib.Remote({ server: 'ws://127.0.0.1:5020', local_sign: true }); // never connected

// ---------------------------------------------------------------- PRNG (sfc32)
function sfc32(a, b, c, d) {
  return function () {
    a >>>= 0; b >>>= 0; c >>>= 0; d >>>= 0;
    let t = (a + b) | 0; a = b ^ (b >>> 9); b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11); d = (d + 1) | 0; t = (t + d) | 0; c = (c + t) | 0;
    return (t >>> 0) / 4294967296;
  };
}
const rnd = sfc32(0x9E3779B9, 0x243F6A88, 0xB7E15162, SEED);
for (let i = 0; i < 20; i++) rnd();
const ri = (lo, hi) => lo + Math.floor(rnd() * (hi - lo + 1)); // inclusive
const chance = (p) => rnd() < p;
const pick = (a) => a[Math.floor(rnd() * a.length)];
const bytes = (n) => { const b = Buffer.alloc(n); for (let i = 0; i < n; i++) b[i] = ri(0, 255); return b; };
const u32 = () => ri(0, 0xFFFFFFFF);
const bigRange = (lo, hi) => { // uniform-ish BigInt in [lo, hi]
  const span = hi - lo + 1n; let x = 0n;
  for (let i = 0; i < 4; i++) x = (x << 32n) | BigInt(u32());
  return lo + (x % span);
};

// ---------------------------------------------------------------- helpers
const sha512half = (buf) => crypto.createHash('sha512').update(buf).digest().subarray(0, 32);
const txHash = (hex) => sha512half(Buffer.concat([Buffer.from('54584E00', 'hex'), Buffer.from(hex, 'hex')])).toString('hex').toUpperCase();
const signingHash = (hex) => sha512half(Buffer.concat([Buffer.from('53545800', 'hex'), Buffer.from(hex, 'hex')])).toString('hex').toUpperCase();
const clone = (o) => JSON.parse(JSON.stringify(o));
const quietly = (fn) => { const w = process.stdout.write; try { return fn(); } finally { process.stdout.write = w; } };

// Own minimal walker of the canonical binary format: top-level fields with byte ranges.
function walk(hex) {
  const b = Buffer.from(hex, 'hex'); let i = 0;
  const hdr = () => { const h = b[i++]; let t = h >> 4, f = h & 15; if (t === 0) t = b[i++]; if (f === 0) f = b[i++]; return { t, f }; };
  const vl = () => { const b1 = b[i++]; if (b1 <= 192) return b1; if (b1 <= 240) return 193 + (b1 - 193) * 256 + b[i++]; const b2 = b[i++], b3 = b[i++]; return 12481 + (b1 - 241) * 65536 + b2 * 256 + b3; };
  const skip = (t) => {
    switch (t) {
      case 1: i += 2; break; case 2: i += 4; break; case 3: i += 8; break; case 4: i += 16; break;
      case 5: i += 32; break; case 16: i += 1; break; case 17: i += 20; break;
      case 6: i += (b[i] & 0x80) ? 48 : 8; break;
      case 7: case 8: case 19: { const n = vl(); i += n; break; }
      case 14: while (b[i] !== 0xE1) skip(hdr().t); i++; break;
      case 15: while (b[i] !== 0xF1) skip(hdr().t); i++; break;
      case 18: for (;;) { const x = b[i++]; if (x === 0) break; if (x === 0xFF) continue; if (x & 1) i += 20; if (x & 0x10) i += 20; if (x & 0x20) i += 20; } break;
      default: throw new Error('walk: unknown type ' + t);
    }
  };
  const out = [];
  while (i < b.length) { const s = i; const h = hdr(); skip(h.t); out.push({ t: h.t, f: h.f, s, e: i }); }
  return { b, fields: out };
}
function unsignedBlob(hex) { // the blob without TxnSignature (7/4)
  try { walk(hex); } catch (e) { throw new Error(e.message + " in " + hex); }
  const { b, fields } = walk(hex);
  return Buffer.concat(fields.filter(x => !(x.t === 7 && x.f === 4)).map(x => b.subarray(x.s, x.e))).toString('hex').toUpperCase();
}
const AMOUNT_FIELDS = { 1: 'Amount', 2: 'Balance', 3: 'LimitAmount', 4: 'TakerPays', 5: 'TakerGets', 8: 'Fee', 9: 'SendMax' };
function nativeAmounts(hex) { // exact drops of every top-level native amount, read with BigInt
  const { b, fields } = walk(hex); const out = {};
  for (const x of fields) if (x.t === 6 && !(b[x.e - 8] & 0x80) && x.e - x.s === 9) {
    const v = b.readBigUInt64BE(x.e - 8);
    out[AMOUNT_FIELDS[x.f] || ('amount' + x.f)] = ((v & 0x4000000000000000n) ? '' : '-') + (v & 0x3FFFFFFFFFFFFFFFn).toString();
  }
  return out;
}

// Exact decimals: "1.25e3" -> {neg, m (BigInt, no trailing zeros), e}
function dec(s) {
  const m = String(s).match(/^([-+]?)(\d*)(?:\.(\d*))?(?:[eE]([-+]?\d+))?$/);
  if (!m) return null;
  let digits = (m[2] || '') + (m[3] || ''); let e = (m[4] ? parseInt(m[4], 10) : 0) - (m[3] || '').length;
  digits = digits.replace(/^0+/, '');
  if (digits === '') return { neg: false, m: 0n, e: 0 };
  while (digits.endsWith('0')) { digits = digits.slice(0, -1); e++; }
  return { neg: m[1] === '-', m: BigInt(digits), e };
}
const decKey = (s) => { const d = dec(s); return d ? (d.neg ? '-' : '') + d.m + 'e' + d.e : 'bad:' + s; };
function swtToDrops(s) { const d = dec(s); if (!d) return 'bad:' + s; let v = d.m; let e = d.e + 6; if (e < 0) return 'frac:' + s; while (e-- > 0) v *= 10n; return (d.neg && v ? '-' : '') + v; }
function dropsToSwt(drops) { const v = BigInt(drops); const i = v / 1000000n, f = (v % 1000000n).toString().padStart(6, '0').replace(/0+$/, ''); return f ? i + '.' + f : String(i); }

// Reference STAmount encoder (BigInt, no floating point): the "correct result" of §4.12.
function refIssuedValueHex(value) {
  const d = dec(value); if (!d) return 'ERR grammar';
  if (d.m === 0n) return '8000000000000000';
  let m = d.m, e = d.e;
  if (m > 9999999999999999n) return 'ERR precision';
  while (m < 1000000000000000n) { m *= 10n; e--; }
  if (e > 80) return 'ERR range'; if (e < -96) return 'ERR range';
  const v = (1n << 63n) | (d.neg ? 0n : (1n << 62n)) | (BigInt(e + 97) << 54n) | m;
  return v.toString(16).toUpperCase().padStart(16, '0');
}
const refNativeHex = (drops) => { const v = BigInt(drops); return ((v < 0n ? 0n : 0x4000000000000000n) | (v < 0n ? -v : v)).toString(16).toUpperCase().padStart(16, '0'); };

// ---------------------------------------------------------------- keys and accounts
const keys = { secp256k1: [], ed25519: [] };
function makeKey(algorithm) {
  const secret = Keypairs.generateSeed({ entropy: bytes(16), algorithm });
  const kp = Keypairs.deriveKeypair(secret);
  return { algorithm, secret, public_key: kp.publicKey.toUpperCase(), private_key: kp.privateKey.toUpperCase(), address: Keypairs.deriveAddress(kp.publicKey) };
}
for (let i = 0; i < 24; i++) keys.secp256k1.push(makeKey('secp256k1'));
for (let i = 0; i < 16; i++) keys.ed25519.push(makeKey('ed25519'));
const randAddress = () => (chance(0.5) ? pick(keys.secp256k1.concat(keys.ed25519)).address : addressCodec.encodeAccountID(bytes(20)));

// ---------------------------------------------------------------- random values
const CURRENCIES3 = ['CNY', 'USD', 'EUR', 'JPY', 'BTC', 'cny', 'Abc', 'X9z'];
function randCurrency() {
  const r = rnd();
  if (r < 0.45) return pick(CURRENCIES3);
  if (r < 0.8) { // 3-6 alphanumerics (never "SWT")
    const A = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'; let s;
    do { s = ''; const n = ri(3, 6); for (let i = 0; i < n; i++) s += pick(A); } while (s === 'SWT');
    return s;
  }
  // 40 hex; first byte non-zero so it never reads back as a short code or SWT
  const b = bytes(20); b[0] = b[0] | 0x80; return b.toString('hex').toUpperCase();
}
// Issued value text the JS libraries can encode: ≤ 16 significant digits, normalized mantissa
// below 2^53 (first digit 1-8), magnitude 1e-8 .. 1e11, plain decimal notation (§7.1/§7.4: the
// rest of the range is covered by the amount cases below, against the exact reference).
function randIssuedValue() {
  if (chance(0.03)) return '0';
  const n = ri(1, 16); let digits = String(ri(1, 8));
  for (let i = 1; i < n; i++) digits += String(ri(0, 9));
  const intDigits = ri(-7, 11); // below 1e-8 both libraries fail on some values
  let s;
  if (intDigits <= 0) s = '0.' + '0'.repeat(-intDigits) + digits;
  else if (intDigits >= n) s = digits + '0'.repeat(intDigits - n);
  else s = digits.slice(0, intDigits) + '.' + digits.slice(intDigits);
  if (s.includes('.')) s = s.replace(/0+$/, '').replace(/\.$/, '');
  if (dec(s).m === 0n) return '1';
  if (BigInt(s.split('.')[0]) > 100000000000n) return '1';
  return s;
}
function randDrops() { // log-uniform, 1 drop .. 9e15 drops (below 2^53, jingtum-lib's range)
  const exp = ri(0, 15); let v = BigInt(ri(1, 9)) * 10n ** BigInt(exp);
  v += bigRange(0n, v); if (v > 9000000000000000n) v = 9000000000000000n;
  if (chance(0.2)) v = (v / 1000000n) * 1000000n || 1000000n; // whole SWT
  return v.toString();
}
function randAmount(nativeOk = true) {
  if (nativeOk && chance(0.4)) { const d = randDrops(); return { canon: d, lib: { value: dropsToSwt(d), currency: 'SWT', issuer: '' }, drops: d }; }
  const a = { value: randIssuedValue(), currency: randCurrency(), issuer: randAddress() };
  return { canon: a, lib: clone(a) };
}
function randUtf8Text(maxLen) {
  const n = ri(0, maxLen); let s = '';
  for (let i = 0; i < n; i++) {
    const r = rnd(); let cp;
    if (r < 0.5) cp = ri(0x20, 0x7E); else if (r < 0.7) cp = ri(0x80, 0x7FF);
    else if (r < 0.9) { do cp = ri(0x800, 0xFFFD); while (cp >= 0xD800 && cp <= 0xDFFF); } else cp = ri(0x10000, 0x10FFFF);
    s += String.fromCodePoint(cp);
  }
  return s;
}
const isValidUtf8 = (buf) => Buffer.from(buf.toString('utf8'), 'utf8').equals(buf);

// ---------------------------------------------------------------- transaction specs
// A spec: {type, api, opts (builder options), extra (tx_json fields added after building,
// in the libraries' drops form), canon (libjt JSON, drops), memos:[{data:Buffer,type?,text?}]}.
const TYPES = ['payment', 'offercreate', 'offercancel', 'trustset', 'relationset', 'relationdel',
  'accountset', 'setregularkey', 'signerlistset', 'brokerage'];

// jingtum-lib accepts only upper-case 3-character or 40-hex currencies in paths
function pathCurrency() {
  if (chance(0.2)) { const b = bytes(20); b[0] |= 0x80; return b.toString('hex').toUpperCase(); }
  let c; const A = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
  do c = pick(A) + pick(A) + pick(A); while (c === 'SWT');
  return c;
}
function randPaths() {
  const paths = [];
  for (let p = ri(1, 3); p > 0; p--) {
    const steps = [];
    for (let s = ri(1, 3); s > 0; s--) {
      const r = rnd();
      if (r < 0.35) steps.push({ account: randAddress() });
      else if (r < 0.7) steps.push({ currency: pathCurrency(), issuer: randAddress() });
      else if (r < 0.85) steps.push({ currency: pathCurrency() });
      else steps.push({ issuer: randAddress() });
    }
    paths.push(steps);
  }
  return paths;
}

function genSpec(type, key) {
  const acct = key.address;
  const sp = { type, key, opts: null, extra: {}, canon: { Account: acct }, memos: [] };
  const c = sp.canon;
  switch (type) {
    case 'payment': {
      const to = randAddress(); const amt = randAmount();
      sp.api = 'buildPaymentTx'; sp.opts = { account: acct, to, amount: amt.lib };
      Object.assign(c, { TransactionType: 'Payment', Destination: to, Amount: amt.canon });
      if (chance(0.4)) { const sm = randAmount(); sp.extra.SendMax = typeof sm.canon === 'string' ? sm.canon : clone(sm.canon); c.SendMax = sm.canon; }
      if (chance(0.3)) { const p = randPaths(); sp.extra.Paths = clone(p); c.Paths = p; }
      if (chance(0.3)) { const t = u32(); sp.extra.DestinationTag = t; c.DestinationTag = t; }
      // (no InvoiceID: both libraries encode it but neither JS decoder can read it back)
      if (chance(0.3)) { const f = pick([0x00010000, 0x00020000, 0x00040000, 0x00060000]); sp.extra.Flags = f; c.Flags = f; }
      break;
    }
    case 'offercreate': {
      let gets = randAmount(), pays = randAmount(typeof gets.canon === 'object');
      if (typeof gets.canon === 'object' && chance(0.3)) { gets = randAmount(false); pays = randAmount(false); }
      const sell = chance(0.5);
      sp.api = 'buildOfferCreateTx'; sp.opts = { type: sell ? 'Sell' : 'Buy', account: acct, taker_gets: gets.lib, taker_pays: pays.lib };
      Object.assign(c, { TransactionType: 'OfferCreate', TakerPays: pays.canon, TakerGets: gets.canon, Flags: sell ? 0x00080000 : 0 });
      if (chance(0.25)) { const p = randAddress(); sp.opts.platform = p; c.Platform = p; }
      if (chance(0.25)) { const f = (sell ? 0x00080000 : 0) | pick([0x00010000, 0x00020000, 0x00040000]); sp.extra.Flags = f; c.Flags = f; }
      if (chance(0.2)) { const x = u32(); sp.extra.Expiration = x; c.Expiration = x; }
      break;
    }
    case 'offercancel': {
      const s = ri(1, 0x7FFFFFFF);
      sp.api = 'buildOfferCancelTx'; sp.opts = { account: acct, sequence: s };
      Object.assign(c, { TransactionType: 'OfferCancel', OfferSequence: s });
      break;
    }
    case 'trustset': {
      const lim = randAmount(false);
      sp.api = 'buildRelationTx'; sp.opts = { type: 'trust', account: acct, limit: lim.lib };
      Object.assign(c, { TransactionType: 'TrustSet', LimitAmount: lim.canon });
      if (chance(0.3)) { const q = ri(1, 0xFFFFFFFF); sp.opts.quality_in = q; c.QualityIn = q; }
      if (chance(0.3)) { const q = ri(1, 0xFFFFFFFF); sp.opts.quality_out = q; c.QualityOut = q; }
      if (chance(0.3)) { const f = pick([0x00010000, 0x00020000, 0x00040000, 0x00100000, 0x00200000]); sp.extra.Flags = f; c.Flags = f; }
      break;
    }
    case 'relationset': case 'relationdel': {
      const target = randAddress(); const lim = randAmount(false);
      const rt = type === 'relationdel' ? 'unfreeze' : pick(['authorize', 'freeze']);
      sp.api = 'buildRelationTx'; sp.opts = { type: rt, account: acct, target, limit: lim.lib };
      Object.assign(c, { TransactionType: type === 'relationdel' ? 'RelationDel' : 'RelationSet', Target: target,
        RelationType: rt === 'authorize' ? 1 : 3, LimitAmount: lim.canon });
      break;
    }
    case 'accountset': {
      sp.api = 'buildAccountSetTx'; sp.opts = { type: 'property', account: acct };
      c.TransactionType = 'AccountSet';
      if (chance(0.6)) { const f = ri(1, 8); sp.opts.set_flag = f; c.SetFlag = f; }
      if (chance(0.5)) { const f = ri(1, 8); sp.opts.clear_flag = f; c.ClearFlag = f; }
      if (chance(0.3)) { const r = ri(1000000000, 2000000000); sp.extra.TransferRate = r; c.TransferRate = r; }
      if (chance(0.2)) { const f = pick([0x00010000, 0x00020000, 0x00040000, 0x00080000, 0x00100000, 0x00200000]); sp.extra.Flags = f; c.Flags = f; }
      break;
    }
    case 'setregularkey': {
      const k = randAddress();
      sp.api = 'buildAccountSetTx'; sp.opts = { type: 'delegate', account: acct, delegate_key: k };
      Object.assign(c, { TransactionType: 'SetRegularKey', RegularKey: k });
      break;
    }
    case 'signerlistset': {
      const lists = []; for (let n = ri(1, 8); n > 0; n--) lists.push({ account: randAddress(), weight: ri(1, 65535) });
      const q = ri(1, lists.reduce((a, l) => a + l.weight, 0)); // @swtc refuses a quorum above the total weight
      sp.api = 'buildSignerListTx'; sp.opts = { account: acct, threshold: q, lists };
      Object.assign(c, { TransactionType: 'SignerListSet', SignerQuorum: q,
        SignerEntries: lists.map(l => ({ SignerEntry: { Account: l.account, SignerWeight: l.weight } })) });
      break;
    }
    case 'brokerage': {
      const den = ri(1, 1000000); const mol = ri(0, den); const fee = randAddress(); const amt = randAmount(false);
      sp.api = 'buildBrokerageTx'; sp.opts = { account: acct, feeAccount: fee, mol, den, amount: amt.lib };
      Object.assign(c, { TransactionType: 'Brokerage', OfferFeeRateNum: mol, OfferFeeRateDen: den, Amount: amt.canon, FeeAccountID: fee });
      break;
    }
  }
  // common optional fields
  c.Fee = chance(0.5) ? 10000 : ri(10, 2000000); sp.fee = c.Fee;
  c.Sequence = ri(1, 0x7FFFFFFF);
  if (c.Flags === undefined) c.Flags = 0;
  if (chance(0.15)) { const t = u32(); sp.extra.SourceTag = t; c.SourceTag = t; }
  if (chance(0.15)) { const t = ri(1, 0xFFFFFFFF); sp.extra.LastLedgerSequence = t; c.LastLedgerSequence = t; }
  if (chance(0.35)) {
    for (let n = ri(1, 3); n > 0; n--) {
      if (key.algorithm === 'ed25519' && chance(0.6)) sp.memos.push({ data: bytes(ri(0, 120)), hex: true }); // any bytes
      else { const text = randUtf8Text(40); sp.memos.push({ data: Buffer.from(text, 'utf8'), text }); }
    }
    c.Memos = sp.memos.map(m => ({ Memo: m.hex ? { MemoData: m.data.toString('hex').toUpperCase(), MemoFormat: '686578' }
      : { MemoData: m.data.toString('hex').toUpperCase() } }));
  }
  return sp;
}

// ---------------------------------------------------------------- JS signing
function checkBuilt(tx, who) {
  for (const k in tx.tx_json) if (tx.tx_json[k] instanceof Error) throw new Error(who + ' builder: ' + k + ': ' + tx.tx_json[k].message);
}
function finish(tx, sp, who) {
  tx.setFee(sp.fee);
  Object.assign(tx.tx_json, clone(sp.extra));
  tx.setSecret(sp.key.secret);
  tx.setSequence(sp.canon.Sequence);
  checkBuilt(tx, who);
  let blob, err;
  tx.sign((e, b) => { err = e; blob = b; });
  if (err) throw (err instanceof Error ? err : new Error(String(err)));
  return blob.toUpperCase();
}
function signJl(sp) {
  const tx = remote[sp.api](clone(sp.opts));
  for (const m of sp.memos) tx.addMemo(m.text);
  return finish(tx, sp, 'jingtum-lib');
}
function signSwtc(sp) {
  const tx = SwtcTx[sp.api](clone(sp.opts), {});
  for (const m of sp.memos) { if (m.hex) tx.addMemo(m.data.toString('hex').toUpperCase(), 'hex'); else tx.addMemo(m.text); }
  return finish(tx, sp, '@swtc/transaction');
}

// ---------------------------------------------------------------- decoded-field comparison
const UINT64 = new Set(['OfferFeeRateNum', 'OfferFeeRateDen']);
const NATIVE_OK = new Set(['Amount', 'SendMax', 'TakerPays', 'TakerGets', 'Fee']);
// Normal form of a tx JSON: native amounts in drops, issued values as exact decimals, UInt64
// as decimal, hex upper-case, lower-case keys (parsed_memo_*) and signature fields dropped.
function norm(j, swtUnits) {
  const out = {};
  for (const k of Object.keys(j)) {
    if (k[0] === k[0].toLowerCase() || k === 'TxnSignature' || k === 'SigningPubKey') continue;
    let v = j[k];
    if (NATIVE_OK.has(k) || k === 'LimitAmount') {
      if (typeof v === 'object') v = { value: decKey(v.value), currency: v.currency, issuer: v.issuer };
      else v = swtUnits ? swtToDrops(v) : String(v);
    } else if (UINT64.has(k)) {
      v = swtUnits ? String(BigInt(v)) : (typeof v === 'number' ? String(v) : String(BigInt('0x' + v)));
    } else if (k === 'Memos') {
      v = v.map(m => { const o = {}; for (const f of ['MemoType', 'MemoData', 'MemoFormat']) if (m.Memo[f] !== undefined) o[f] = String(m.Memo[f]).toUpperCase(); return o; });
    } else if (k === 'Paths') {
      v = v.map(p => p.map(s => { const o = {}; for (const f of ['account', 'currency', 'issuer']) if (s[f] !== undefined) o[f] = s[f]; return o; }));
    } else if (k === 'SignerEntries') {
      v = v.map(e => ({ Account: e.SignerEntry.Account, SignerWeight: Number(e.SignerEntry.SignerWeight) }));
    } else if (typeof v === 'string' && /^[0-9A-Fa-f]{32,}$/.test(v)) v = v.toUpperCase();
    else if (typeof v === 'string' && /^\d+$/.test(v)) v = Number(v);
    out[k] = v;
  }
  return out;
}
function stableStr(o) {
  if (Array.isArray(o)) return '[' + o.map(stableStr).join(',') + ']';
  if (o && typeof o === 'object') return '{' + Object.keys(o).sort().map(k => JSON.stringify(k) + ':' + stableStr(o[k])).join(',') + '}';
  return JSON.stringify(o);
}
function diffKeys(a, b) {
  const ks = new Set(Object.keys(a).concat(Object.keys(b))); const d = [];
  for (const k of ks) if (stableStr(a[k]) !== stableStr(b[k])) d.push(k);
  return d;
}
function swtcDecode(hex) {
  try { return { j: new SwtcSer(hex).to_json() }; } catch (e) { return { err: e.message }; }
}
function jlDecode(hex) {
  try { return { j: quietly(() => new JlSer(hex).to_json()) }; } catch (e) { return { err: e.message }; }
}
// @swtc/serializer first; where it cannot decode a field (it does not know InvoiceID, 5/17) fall
// back to jingtum-lib's decoder. Neither decodes SignerListSet (type 207).
function jsDecode(hex) {
  const a = swtcDecode(hex); if (!a.err) return a;
  const b = jlDecode(hex); if (!b.err) { expected.decoder_fallback++; b.by = 'jingtum-lib'; return b; }
  return { err: '@swtc/serializer: ' + a.err + '; jingtum-lib: ' + b.err };
}
// @swtc/serializer prints issued values through BigNumber with 20 decimal places (ROUND_HALF_UP):
// the exact value rounded that way is what it shows.
function round20(key) {
  const m = key.match(/^(-?)(\d+)e(-?\d+)$/); if (!m) return key;
  let v = BigInt(m[2]), e = Number(m[3]);
  if (e >= -20) return key;
  const k = BigInt(-20 - e); const p = 10n ** k; v = (v + p / 2n) / p; e = -20;
  return decKey((m[1] && v ? '-' : '') + v + 'e' + e);
}
function decoderRounding(jt, js, fields) {
  return fields.every(k => jt[k] && js[k] && typeof jt[k] === 'object' && typeof js[k] === 'object' &&
    jt[k].currency === js[k].currency && jt[k].issuer === js[k].issuer && round20(jt[k].value) === js[k].value && jt[k].value !== js[k].value);
}
function fieldBytes(hex, t, f) { const { b, fields } = walk(hex); const x = fields.find(y => y.t === t && y.f === f); return x ? b.subarray(x.s, x.e) : null; }
function txnSignature(hex) { // TxnSignature 7/4: header 0x74, VL length (< 193), bytes
  const raw = fieldBytes(hex, 7, 4); return raw ? raw.subarray(2).toString('hex').toUpperCase() : null;
}
// §7: the libraries carry SWT amounts through a double (drops / 1e6 and back), which can be off
// by a few drops. Accept a difference only in native amount fields and only that small.
function floatDamage(expected, got, fields) {
  for (const k of fields) {
    if (!NATIVE_OK.has(k) || typeof expected[k] !== 'string' || typeof got[k] !== 'string') return false;
    const e = BigInt(expected[k]), g = BigInt(got[k]); const d = e > g ? e - g : g - e;
    if (d === 0n || d > 1n + e / 1000000000000000n) return false;
    // it must really be one of the libraries' double round trips: SWT text -> double -> drops,
    // or drops -> double SWT -> its shortest text -> exact drops (jingtum-lib's path for large
    // drop strings, e.g. 8867502054178881 -> 8867502054.17888 -> 8867502054178880)
    const viaDouble = BigInt(Math.round(Number(dropsToSwt(expected[k])) * 1e6));
    const [ip, fp = ''] = String(Number(expected[k]) / 1e6).split('.');
    const viaText = /^[0-9]+$/.test(ip) && /^[0-9]*$/.test(fp) ? BigInt(ip) * 1000000n + BigInt((fp + '000000').slice(0, 6)) : null;
    if (g !== viaDouble && g !== viaText) return false;
  }
  return true;
}

// ---------------------------------------------------------------- run
const stats = {}; for (const t of TYPES) stats[t] = { n: 0, ok: 0, fail: null, jl: 0, swtc: 0, ed: 0, cross: 0, float: 0, memo: 0 };
const expected = { float_drops: [], no_decoder: 0, memo_mangled: 0, decoder_fallback: 0, decoder_rounding: 0 };
const requests = []; const cases = [];
const fails = []; // global failures (keys, §7)
function failCase(c, what) { const s = stats[c.sp.type]; if (!s.fail) s.fail = { seq: c.idx, what, signer: c.signer, key: c.sp.key.algorithm, secret: c.sp.key.secret, canon: c.sp.canon, blob: c.blob }; c.failed = true; }

// keys: libjt must derive the same keys and addresses from every random secret
for (const k of keys.secp256k1.concat(keys.ed25519)) requests.push({ id: 'k' + requests.length, op: 'derive', secret: k.secret, _key: k });
for (const k of keys.secp256k1) { const w = JBL.Wallet.fromSecret(k.secret); if (w.address !== k.address || w.secret !== k.secret) fails.push('jingtum-base-lib and @swtc/keypairs disagree on ' + k.secret); }

let idx = 0;
for (const type of TYPES) {
  for (let i = 0; i < N; i++) {
    const ed = chance(0.3);
    const key = pick(ed ? keys.ed25519 : keys.secp256k1);
    const sp = genSpec(type, key);
    const c = { idx: idx++, sp, signer: ed ? '@swtc/transaction' : 'jingtum-lib' };
    stats[type].n++;
    try { c.blob = ed ? signSwtc(sp) : signJl(sp); } catch (e) { failCase(c, c.signer + ' could not sign: ' + e.message); cases.push(c); continue; }
    if (ed) stats[type].ed++; else stats[type].jl++;
    if (!ed && chance(0.25)) { // the other library must produce the very same bytes
      try { c.blobSwtc = signSwtc(sp); stats[type].cross++; } catch (e) { failCase(c, '@swtc/transaction could not sign: ' + e.message); }
    }
    c.reqCheck = requests.length; requests.push({ id: 'c' + c.idx, op: 'check', blob: c.blob });
    c.reqSign = requests.length; requests.push({ id: 's' + c.idx, op: 'sign', secret: key.secret, tx_json: sp.canon });
    cases.push(c);
  }
}

// §7 amount cases through the driver (checked against the BigInt reference encoder)
const amountCases = [];
function addAmount(req, expectHex, note) { amountCases.push({ r: requests.length, expectHex, note, req }); requests.push(Object.assign({ id: 'a' + requests.length, op: 'amount' }, req)); }
const G = keys.secp256k1[0].address;
for (let i = 0; i < 300; i++) { // native drops across the whole range, incl. ≥ 2^53 where jingtum-lib fails
  const d = bigRange(0n, 100000000000000000n).toString();
  addAmount({ drops: d }, refNativeHex(d), 'native ' + d);
  addAmount({ swt: dropsToSwt(d) }, refNativeHex(d), 'native SWT ' + dropsToSwt(d));
}
for (let i = 0; i < 300; i++) { // issued: full mantissa range, exponents -96..80, negative, e-notation
  const m = bigRange(1000000000000000n, 9999999999999999n).toString().replace(/0+$/, '') || '1';
  const e = ri(-96, 80) - (m.length - 1) + 15 - 15; const neg = chance(0.2);
  const v = (neg ? '-' : '') + m + 'e' + (e - 0);
  const hex = refIssuedValueHex(v);
  addAmount({ value: v, currency: 'CNY', issuer: G, negative_ok: true }, hex.startsWith('ERR') ? null : hex, 'issued ' + v);
}
for (const [v, hex] of [['9.5', 'D4A1C0331D5DC000'], ['9007199254740992', 'D860000000000000'], ['9999999999999999e80', 'EC6386F26FC0FFFF'],
  ['1e-80', 'C0838D7EA4C68000'], ['1e-81', 'C0438D7EA4C68000'], ['1e96', null], ['12345678901234567', null], ['1.23456789012345678', null]])
  addAmount({ value: v, currency: 'CNY', issuer: G, negative_ok: true }, hex, 'issued ' + v);
addAmount({ swt: '0.0000001' }, null, 'SWT 0.0000001');
addAmount({ swt: '100000000000.000001' }, null, 'SWT 100000000000.000001');
addAmount({ swt: '99999999999' }, '416345785D7ABDC0', 'SWT 99999999999');

// §7.10: jingtum-lib fed memo bytes that are not UTF-8 mangles or refuses them; libjt keeps them.
const memoCases = [];
for (let i = 0; i < 50; i++) {
  let data; do data = bytes(ri(1, 40)); while (isValidUtf8(data));
  const key = pick(keys.secp256k1);
  const sp = genSpec('payment', key); sp.memos = [];
  sp.canon.Memos = [{ Memo: { MemoData: data.toString('hex').toUpperCase() } }];
  sp.extra.Memos = [{ Memo: { MemoData: data.toString('hex') } }];
  let jl = null; try { jl = signJl(sp); } catch (e) { jl = 'ERROR ' + e.message; }
  memoCases.push({ sp, data, jl, r: requests.length });
  requests.push({ id: 'm' + i, op: 'sign', secret: key.secret, tx_json: sp.canon });
}

const tJs = Date.now();
const input = requests.map(r => { const o = Object.assign({}, r); delete o._key; return JSON.stringify(o); }).join('\n') + '\n';
const res = spawnSync(DRIVER, [], { input, maxBuffer: 1 << 30, encoding: 'utf8' });
if (res.error || res.status !== 0) {
  say('not ok driver exited with ' + (res.error ? res.error.message : 'status ' + res.status + ' signal ' + res.signal));
  process.stderr.write(String(res.stderr).slice(-4000));
  process.exit(1);
}
const answers = res.stdout.split('\n').filter(Boolean).map(l => JSON.parse(l));
if (answers.length !== requests.length) { say('not ok driver answered ' + answers.length + ' of ' + requests.length + ' requests'); process.exit(1); }
for (let i = 0; i < answers.length; i++) if (answers[i].id !== requests[i].id) { say('not ok driver answer ' + i + ' out of order'); process.exit(1); }
const tC = Date.now();

// keys
let keyOk = 0;
for (let i = 0; i < requests.length && requests[i].op === 'derive'; i++) {
  const k = requests[i]._key, a = answers[i];
  if (a.ok && a.public_key === k.public_key && a.address === k.address && a.private_key === k.private_key) keyOk++;
  else fails.push('keys: libjt derives ' + JSON.stringify(a) + ' from ' + k.secret + ', @swtc/keypairs ' + JSON.stringify(k));
}

// transactions
for (const c of cases) {
  if (c.failed) continue;
  const sp = c.sp, st = stats[sp.type];
  const chk = answers[c.reqCheck], sig = answers[c.reqSign];
  // 1. libjt on the JS blob
  if (!chk.ok) { failCase(c, 'libjt cannot decode the ' + c.signer + ' blob: ' + chk.err + ' ' + chk.msg); continue; }
  if (!chk.reencode_equal) { failCase(c, 'libjt re-encodes differently: ' + chk.reencoded); continue; }
  const h = txHash(c.blob);
  if (chk.hash !== h || chk.blob_hash !== h) { failCase(c, 'hash: libjt ' + chk.hash + ' JS ' + h); continue; }
  if (chk.verify !== 'OK') { failCase(c, 'libjt does not verify the ' + c.signer + ' signature: ' + chk.verify + ' ' + chk.verify_msg); continue; }
  if (!chk.json_roundtrip) { failCase(c, 'libjt JSON does not rebuild the blob ' + (chk.json_roundtrip_error || '')); continue; }
  if (signingHash(unsignedBlob(c.blob)) !== chk.signing_hash) { failCase(c, 'signing hash differs'); continue; }
  const jt = norm(chk.tx_json, false);
  // decoded fields vs @swtc/serializer (SWT units, decimal UInt64)
  const sw = jsDecode(c.blob);
  if (sw.err && sp.type === 'signerlistset') expected.no_decoder++;
  else if (sw.err) { failCase(c, 'JS decoders fail on the blob: ' + sw.err); continue; }
  else {
    const swn = norm(sw.j, true);
    const d1 = diffKeys(jt, swn);
    if (d1.length && decoderRounding(jt, swn, d1)) expected.decoder_rounding++;
    else if (d1.length) { failCase(c, 'decoded fields differ from ' + (sw.by || '@swtc/serializer') + ' in ' + d1.join(',') + ': libjt ' + stableStr(d1.map(k => jt[k])) + ' JS ' + stableStr(d1.map(k => swn[k]))); continue; }
  }
  // decoded fields vs what the generator asked for
  const want = norm(sp.canon, false);
  const d2 = diffKeys(jt, want);
  let floatCase = false;
  if (d2.length) {
    if (floatDamage(want, jt, d2)) { floatCase = true; st.float++; expected.float_drops.push({ type: sp.type, fields: d2, wanted: d2.map(k => want[k]), library_sent: d2.map(k => jt[k]) }); }
    else { failCase(c, 'blob does not carry the requested ' + d2.join(',') + ': wanted ' + stableStr(d2.map(k => want[k])) + ' got ' + stableStr(d2.map(k => jt[k]))); continue; }
  }
  if (c.blobSwtc !== undefined && c.blobSwtc !== c.blob) { failCase(c, 'jingtum-lib and @swtc/transaction blobs differ: ' + c.blobSwtc); continue; }
  // 2. libjt signs the canonical JSON
  if (!sig.ok) { failCase(c, 'libjt cannot sign: ' + sig.err + ' ' + sig.msg + ' ' + (sig.field || '')); continue; }
  if (sig.public_key !== sp.key.public_key) { failCase(c, 'libjt public key differs'); continue; }
  if (floatCase) {
    // §7.3/§7.7: the library's blob is off by a few drops; libjt's must carry the exact drops
    const na = nativeAmounts(sig.blob);
    const bad = d2.filter(k => na[k] !== want[k]);
    if (bad.length) { failCase(c, 'libjt lost exact drops in ' + bad.join(',')); continue; }
  } else if (sig.blob !== c.blob) { failCase(c, 'libjt-signed blob differs from the ' + c.signer + ' blob:\n#   libjt ' + sig.blob + '\n#   JS    ' + c.blob); continue; }
  if (sig.hash !== txHash(sig.blob)) { failCase(c, 'libjt sign hash wrong'); continue; }
  // JS decodes and verifies the libjt blob
  const sw2 = jsDecode(sig.blob);
  if (sw2.err && sp.type !== 'signerlistset') { failCase(c, 'JS cannot decode the libjt blob: ' + sw2.err); continue; }
  if (!sw2.err) {
    const n2 = norm(sw2.j, true);
    const d3 = diffKeys(n2, want);
    const na = nativeAmounts(sig.blob);
    if (d3.length && !decoderRounding(want, n2, d3) && !(floatCase && d3.every(k => NATIVE_OK.has(k) && na[k] === want[k]))) {
      failCase(c, 'JS decodes the libjt blob differently in ' + d3.join(',') + ': JS ' + stableStr(d3.map(k => n2[k])) + ' wanted ' + stableStr(d3.map(k => want[k]))); continue;
    }
  }
  const ub = unsignedBlob(sig.blob); const sigHex = txnSignature(sig.blob);
  const msg = sp.key.algorithm === 'ed25519' ? '53545800' + ub : signingHash(ub);
  if (!Keypairs.verifyTx(msg, sigHex, sig.public_key)) { failCase(c, '@swtc/keypairs does not verify the libjt signature'); continue; }
  if (sp.memos.some(m => m.hex && !isValidUtf8(m.data))) st.memo++;
  st.ok++;
}

// §7 amounts
let amtOk = 0; const amtFail = [];
for (const a of amountCases) {
  const ans = answers[a.r];
  if (a.expectHex === null ? ans.ok : !(ans.ok && ans.hex.slice(0, 16) === a.expectHex)) amtFail.push(a.note + ': libjt ' + JSON.stringify(ans) + ' want ' + (a.expectHex || 'an error'));
  else amtOk++;
}
// how often the JS serializers are wrong on the same inputs (informational, §7.1/§7.3)
let jsWrong = 0;
for (const a of amountCases) {
  if (!a.req.drops || a.expectHex === null) continue;
  let h; try { h = quietly(() => { const so = new JlSer(); JlTypes.Amount.serialize(so, dropsToSwt(a.req.drops)); return so.to_hex(); }); } catch (e) { h = 'ERR'; }
  if (h !== a.expectHex) jsWrong++;
}
// §7.10 memos
let memoOk = 0; const memoFail = [];
for (const m of memoCases) {
  const ans = answers[m.r];
  // the wire form of the memo: Memos/Memo/MemoData header 7D, VL length, the bytes. (No JS decoder
  // here: @swtc/serializer throws on MemoData that is not UTF-8 unless MemoFormat is "hex".)
  const wire = 'F9EA7D' + m.data.length.toString(16).padStart(2, '0').toUpperCase() + m.data.toString('hex').toUpperCase() + 'E1F1';
  const libjtKeeps = ans.ok && ans.blob.includes(wire) && Keypairs.verifyTx(signingHash(unsignedBlob(ans.blob)), txnSignature(ans.blob), m.sp.key.public_key);
  const jlMangles = m.jl.startsWith('ERROR') || !m.jl.includes(wire);
  if (libjtKeeps) { memoOk++; if (jlMangles) expected.memo_mangled++; } else memoFail.push('libjt did not keep memo bytes ' + m.data.toString('hex') + ': ' + JSON.stringify(ans).slice(0, 300));
}

// ---------------------------------------------------------------- report
let failed = 0;
say('# ' + (keys.secp256k1.length + keys.ed25519.length) + ' random keys, ' + cases.length + ' transactions; JS signing ' + ((tJs - T0) / 1000).toFixed(1) + ' s, driver ' + ((tC - tJs) / 1000).toFixed(1) + ' s');
if (keyOk === keys.secp256k1.length + keys.ed25519.length && !fails.length) say('ok keys ' + keyOk + ' random secrets (secp256k1 and ed25519) derive the same keys and addresses');
else { failed++; say('not ok keys ' + keyOk + ' agree'); for (const f of fails.slice(0, 3)) say('#   ' + f); }
for (const t of TYPES) {
  const s = stats[t];
  const detail = '(' + s.jl + ' by jingtum-lib, ' + s.ed + ' ed25519 by @swtc/transaction, ' + s.cross + ' also by @swtc/transaction; ' + s.float + ' §7 float-drops, ' + s.memo + ' non-UTF-8 memos)';
  if (s.ok === s.n && !s.fail) say('ok ' + t + ' ' + s.ok + ' transactions ' + detail);
  else {
    failed++;
    say('not ok ' + t + ' ' + s.ok + '/' + s.n + ' transactions ' + detail);
    const f = s.fail;
    say('#   first mismatch (case ' + f.seq + ', signed by ' + f.signer + ', ' + f.key + ' ' + f.secret + '): ' + f.what);
    say('#   tx_json ' + JSON.stringify(f.canon));
    if (f.blob) say('#   blob ' + f.blob);
  }
}
if (!amtFail.length) say('ok amounts ' + amtOk + ' §7 amount encodings equal the exact reference (jingtum-lib wrong on ' + jsWrong + ' of the native ones)');
else { failed++; say('not ok amounts ' + amtFail.length + ' of ' + amountCases.length + ' differ from the exact reference'); for (const f of amtFail.slice(0, 3)) say('#   ' + f); }
if (!memoFail.length) say('ok memos ' + memoOk + ' non-UTF-8 memo payloads kept byte-exact by libjt (§7.10: jingtum-lib mangled or refused ' + expected.memo_mangled + ')');
else { failed++; say('not ok memos ' + memoFail.length + ' lost bytes'); for (const f of memoFail.slice(0, 3)) say('#   ' + f); }
say('# expected disagreements: ' + expected.float_drops.length + ' transactions where the library sent a native amount off by a few drops (§7.3/§7.7; libjt kept the exact drops)' +
  (expected.float_drops.length ? ', e.g. ' + JSON.stringify(expected.float_drops[0]) : '') +
  '; ' + expected.no_decoder + ' SignerListSet blobs no JS decoder can decode (compared with the generator\'s fields only); ' +
  expected.decoder_fallback + ' decodes by jingtum-lib because @swtc/serializer does not know a field (InvoiceID); ' +
  expected.decoder_rounding + ' issued values @swtc/serializer rounds to 20 decimals (libjt exact)');
say('# total ' + ((Date.now() - T0) / 1000).toFixed(1) + ' s, seed ' + SEED);
process.exit(failed ? 1 : 0);
