// node_book.js BUILD — integration tests of jt-node's order-book queries and
// streams over WebSocket: book_offers (owner_funds, taker_gets_funded and
// taker_pays_funded under a TransferRate, freezes and running balances,
// checked against values worked out here), paging a deep book with marker
// while it changes, account_offers paging, and the books stream (snapshot,
// both, each transaction once, unsubscribe, limits). Starts a real jt-node
// on loopback and prints "ok NAME" / "not ok NAME - detail" lines.
//
// Offers are placed so that none could cross another: the expectations hold
// whether or not the node crosses offers.
'use strict';
const path = require('path');
const h = require(path.join(__dirname, 'harness.js'))('book', 'jt-node-book-', process.argv[2]);
const { ok, eq, keygen, client, submit, accept, GENESIS, RESERVE_BASE, RESERVE_INC } = h;
const MAX_BOOKS_PER_CONN = 6, MAX_BOOKS = 8; // set small below, to reach them
let c; // the main client (h.c, which submit() uses)
const cny = (I, v) => ({ currency: 'CNY', issuer: I.address, value: String(v) });
const usd = (I, v) => ({ currency: 'USD', issuer: I.address, value: String(v) });
const swt = (v) => String(Math.round(v * 1e6));

// ---------------------------------------------------------------- a model of getBookPage
// What each offer's owner can deliver, worked out here from the balances the
// test set up: amounts as numbers (IOU values, or drops for SWT).
function amountNum(a) { return typeof a === 'string' ? Number(a) : Number(a.value); }
function expectPage(offers, { funds, issuer, rate, taker, frozen }) {
  const left = new Map();
  return offers.map((o) => {
    const gets = amountNum(o.TakerGets), pays = amountNum(o.TakerPays);
    const q = pays / gets;
    let f, first = true;
    if (o.Account === issuer) f = gets;
    else if (frozen) f = 0;
    else if (left.has(o.Account)) { f = left.get(o.Account); first = false; }
    else f = funds(o.Account);
    const charged = rate !== 1 && taker !== issuer && o.Account !== issuer;
    const limit = charged ? f / rate : f;
    const funded = limit >= gets;
    const getsFunded = funded ? gets : limit;
    const paysFunded = funded ? undefined : Math.min(pays, getsFunded * q);
    if (o.Account !== issuer && !frozen) left.set(o.Account, f - (charged ? Math.min(f, getsFunded * rate) : getsFunded));
    return { index: o.index, owner_funds: first ? f : undefined, funded, getsFunded, paysFunded };
  });
}
function close(a, b) { return Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a), Math.abs(b)); }
function checkPage(got, want, name) {
  const bad = [];
  if (got.length !== want.length) bad.push({ length: got.length, want: want.length });
  for (let i = 0; i < Math.min(got.length, want.length); i++) {
    const g = got[i], w = want[i];
    if (g.index !== w.index) bad.push({ i, index: g.index, want: w.index });
    if ((g.owner_funds === undefined) !== (w.owner_funds === undefined) ||
        (w.owner_funds !== undefined && !close(Number(g.owner_funds), w.owner_funds)))
      bad.push({ i, owner_funds: g.owner_funds, want: w.owner_funds });
    if (w.funded !== (g.taker_gets_funded === undefined) || w.funded !== (g.taker_pays_funded === undefined))
      bad.push({ i, funded: w.funded, got: [g.taker_gets_funded, g.taker_pays_funded] });
    if (!w.funded && g.taker_gets_funded !== undefined &&
        (!close(amountNum(g.taker_gets_funded), w.getsFunded) || !close(amountNum(g.taker_pays_funded), w.paysFunded)))
      bad.push({ i, gets_funded: g.taker_gets_funded, pays_funded: g.taker_pays_funded, want: [w.getsFunded, w.paysFunded] });
    if (!close(Number(g.quality), amountNum(g.TakerPays) / amountNum(g.TakerGets)))
      bad.push({ i, quality: g.quality });
  }
  return ok(bad.length === 0, name, bad);
}

async function book(pays, gets, extra = {}) {
  return c.request(Object.assign({ command: 'book_offers', taker_pays: pays, taker_gets: gets, ledger_index: 'validated' }, extra));
}
async function lineBalance(a, I, cur) {
  const r = await c.request({ command: 'account_lines', account: a, peer: I.address, ledger_index: 'validated' });
  const l = r.result.lines.find((x) => x.currency === cur);
  return l ? Number(l.balance) : 0;
}
async function swtFunds(a) {
  const r = await c.request({ command: 'account_info', account: a, ledger_index: 'validated' });
  const d = r.result.account_data;
  return Math.max(0, Number(d.Balance) - (RESERVE_BASE + d.OwnerCount * RESERVE_INC));
}

// ---------------------------------------------------------------- tests
async function main() {
  if (!h.init(`\n[limits]\nmax_books_per_conn = ${MAX_BOOKS_PER_CONN}\nmax_books = ${MAX_BOOKS}\n`)) return;
  const port = await h.startNode();
  c = h.c = client(port);
  await c.ready;

  const I = keygen(), I2 = keygen(), A = keygen(), B = keygen(), C = keygen(), D = keygen();
  const E1 = keygen(), E2 = keygen();
  for (const [who, v] of [[I, 1000], [I2, 100], [A, 1000], [B, 1000], [C, 1000], [D, 30], [E1, 1000], [E2, 1000]])
    await submit(GENESIS, { TransactionType: 'Payment', Destination: who.address, Amount: swt(v) });
  await accept();
  for (const who of [A, B, C]) await submit(who, { TransactionType: 'TrustSet', LimitAmount: cny(I, 100000) });
  await accept();
  for (const [who, v] of [[A, 100], [B, 20], [C, 10]])
    await submit(I, { TransactionType: 'Payment', Destination: who.address, Amount: cny(I, v) });
  await submit(I, { TransactionType: 'AccountSet', TransferRate: 1250000000 });
  await accept();

  // Book X: taker pays SWT, taker gets CNY/I. Created in this order; the
  // book orders them by quality (SWT per CNY), then by time.
  const X = { pays: { currency: 'SWT', issuer: '' }, gets: { currency: 'CNY', issuer: I.address } };
  const Xr = { pays: X.gets, gets: X.pays };
  const placed = [];
  const place = async (who, gets, pays, extra = {}) => {
    const s = await submit(who, Object.assign({ TransactionType: 'OfferCreate', TakerGets: gets, TakerPays: pays }, extra));
    placed.push(Object.assign({ who, gets, pays }, s));
    await accept(); // one ledger each: a closed ledger applies its transactions by account
    return s;
  };
  const a1 = await place(A, cny(I, 50), swt(500)); // 10 SWT/CNY
  await place(B, cny(I, 40), swt(400)); // 10
  await place(A, cny(I, 60), swt(660)); // 11
  await place(C, cny(I, 5), swt(45)); // 9: the best
  await place(I, cny(I, 1000), swt(12000)); // 12: the issuer's own IOUs
  const a3 = await place(A, cny(I, 30), swt(300)); // 10
  // The reverse book: D sells SWT for CNY at 1 and 2 CNY per SWT (X's
  // sellers want 9 to 12 SWT per CNY: nothing crosses).
  await place(D, swt(10), cny(I, 10));
  await place(D, swt(15), cny(I, 30));
  await accept(); // the freeze must not sort before C's offer when the ledger closes
  await submit(I, { TransactionType: 'RelationSet', Target: C.address, RelationType: 3, LimitAmount: cny(I, 0) });
  await accept();

  // -- book_offers: order, funds, transfer rate, running balances
  let r = await book(X.pays, X.gets);
  const xo = r.result ? r.result.offers : [];
  const order = xo.map((o) => `${o.Account}:${o.Sequence}`).join();
  const wantOrder = [3, 0, 1, 5, 2, 4].map((i) => `${placed[i].who.address}:${placed[i].seq}`).join();
  eq(order, wantOrder, 'book_offers: best quality first, then time order');
  const held = { [A.address]: await lineBalance(A.address, I, 'CNY'), [B.address]: await lineBalance(B.address, I, 'CNY'),
    [C.address]: 0 /* frozen by the issuer */ };
  checkPage(xo, expectPage(xo, { funds: (a) => held[a], issuer: I.address, rate: 1.25, taker: 'none', frozen: false }),
    'book_offers: owner_funds, taker_gets_funded, taker_pays_funded under a 1.25 TransferRate with running balances');
  const a3o = xo.find((o) => o.Sequence === a3.seq && o.Account === A.address);
  const a2o = xo.find((o) => o.Sequence === placed[2].seq);
  ok(a3o && a3o.owner_funds === undefined && a3o.taker_gets_funded === undefined &&
     a2o && a2o.taker_gets_funded?.value === '0' && a2o.taker_pays_funded === '0',
    'book_offers: a later offer of the same owner draws on what the earlier ones left', { a3o, a2o });
  const io = xo.find((o) => o.Account === I.address);
  ok(io && io.owner_funds === '1000' && io.taker_gets_funded === undefined, 'book_offers: the issuer\'s own offer is fully funded', io);
  const bo = xo.find((o) => o.Account === B.address);
  ok(bo && bo.taker_gets_funded?.value === '16' && bo.taker_pays_funded === '160000000' && bo.owner_funds === '20',
    'book_offers: 20 CNY cover 16 CNY of an offer when the issuer charges 25%', bo);
  r = await book(X.pays, X.gets, { taker: I.address });
  checkPage(r.result?.offers || [], expectPage(r.result?.offers || [], { funds: (a) => held[a], issuer: I.address, rate: 1.25, taker: I.address, frozen: false }),
    'book_offers: no transfer fee when the taker is the issuer');
  r = await book(Xr.pays, Xr.gets);
  const dFunds = await swtFunds(D.address);
  checkPage(r.result.offers, expectPage(r.result.offers, { funds: () => dFunds, issuer: '', rate: 1, taker: 'none', frozen: false }),
    'book_offers: SWT offers funded by the balance above the reserve');
  ok(r.result.offers.length === 2 && r.result.offers[1].taker_gets_funded === String(dFunds - 10000000),
    'book_offers: the second SWT offer gets what the first left', r.result.offers.map((o) => o.taker_gets_funded));

  // GlobalFreeze by either side's issuer: every offer but the issuer's is unfunded.
  await submit(I, { TransactionType: 'AccountSet', SetFlag: 7 });
  await accept();
  r = await book(X.pays, X.gets);
  checkPage(r.result.offers, expectPage(r.result.offers, { funds: (a) => held[a], issuer: I.address, rate: 1.25, taker: 'none', frozen: true }),
    'book_offers: GlobalFreeze leaves only the issuer\'s offers funded');
  r = await book(Xr.pays, Xr.gets);
  ok(r.result.offers.every((o) => o.owner_funds === '0' && o.taker_gets_funded === '0'),
    'book_offers: GlobalFreeze of the TakerPays issuer unfunds SWT offers too', r.result.offers);
  await submit(I, { TransactionType: 'AccountSet', ClearFlag: 7 });
  await accept();

  // -- errors
  r = await book(X.pays, X.gets, { marker: 'zz' });
  eq(r.error, 'invalidParams', 'book_offers: a malformed marker');
  r = await book(X.pays, X.gets, { taker: 'jBAD' });
  eq(r.error, 'invalidParams', 'book_offers: a malformed taker');
  r = await book({ currency: 'CNY' }, X.gets);
  eq(r.error, 'srcIsrMalformed', 'book_offers: an issued currency without issuer');
  r = await book(X.pays, { currency: 'SWT', issuer: I.address });
  eq(r.error, 'dstIsrMalformed', 'book_offers: SWT with an issuer');

  // -- a deep book: book Z, taker pays USD/I2, taker gets SWT. 350 offers
  // at 10 qualities (35 each: two directory pages per quality), by two owners.
  const Z = { pays: { currency: 'USD', issuer: I2.address }, gets: { currency: 'SWT', issuer: '' } };
  // One owner per ledger, so that time order is the order of submission
  // in the open ledger and in the closed one alike.
  const deep = [];
  let k = 0;
  const addDeep = async (who, level) => {
    const s = await submit(who, { TransactionType: 'OfferCreate', TakerGets: swt(1), TakerPays: usd(I2, level + 1) });
    deep.push({ key: `${who.address}:${s.seq}`, level, k: k++, who, seq: s.seq });
  };
  for (const who of [E1, E2]) {
    for (let i = 0; i < 175; i++) await addDeep(who, (i * 7) % 10);
    await accept();
  }
  const byBook = (a, b) => a.level - b.level || a.k - b.k;
  r = await book(Z.pays, Z.gets);
  ok(r.result && r.result.offers.length === 300 && r.result.limit === 300 && r.result.marker,
    'book_offers: 300 offers at most, then a marker', r.result && { n: r.result.offers.length, limit: r.result.limit });
  r = await book(Z.pays, Z.gets, { limit: 1000 });
  eq(r.result.offers.length, 300, 'book_offers: a larger limit is cut to 300');
  // Page through it, 40 at a time, while it changes under the marker.
  const seen = [];
  let marker, pages = 0;
  const cancelled = new Set(), added = [];
  const cancel = async (o) => { await submit(o.who, { TransactionType: 'OfferCancel', OfferSequence: o.seq }); cancelled.add(o.key); };
  for (;;) {
    r = await c.request({ command: 'book_offers', taker_pays: Z.pays, taker_gets: Z.gets, limit: 40, marker });
    if (!r.result) { ok(false, 'book_offers page', r); break; }
    seen.push(...r.result.offers.map((o) => `${o.Account}:${o.Sequence}`));
    marker = r.result.marker;
    pages++;
    if (pages === 2) {
      // The offer the marker stands after, one already read and one not yet
      // read go; offers come before the marker (not to be read), at its
      // quality (after it) and further on.
      const last = deep.find((o) => o.key === seen[seen.length - 1]);
      await cancel(last);
      await cancel(deep.filter((o) => o.level === 0)[3]);
      await cancel(deep.filter((o) => o.level === 5)[20]);
      for (const level of [0, 2, 2, 7, 9]) { await addDeep(E1, level); added.push(deep[deep.length - 1]); }
    }
    if (pages === 5) await accept(); // a ledger closes between two pages
    if (!marker || pages > 50) break;
  }
  const firstTwo = 80;
  const want = deep.filter((o) => !added.includes(o)).sort(byBook).slice(0, firstTwo).map((o) => o.key);
  const lastRead = deep.find((o) => o.key === want[want.length - 1]);
  const rest = deep.filter((o) => !cancelled.has(o.key) && byBook(o, lastRead) > 0).sort(byBook).map((o) => o.key);
  ok(seen.length === new Set(seen).size, 'book_offers paging: no offer twice', seen.length);
  ok(JSON.stringify(seen) === JSON.stringify(want.concat(rest)),
    'book_offers paging: every offer once, by quality then time, while offers are added and cancelled',
    { pages, got: seen.length, want: want.length + rest.length });
  ok(added.filter((o) => o.level === 0).every((o) => !seen.includes(o.key)) &&
     added.filter((o) => o.level >= 2).every((o) => seen.includes(o.key)),
    'book_offers paging: offers added behind the marker are not read, those ahead are', added.map((o) => o.level));
  // The marker is resumable in a later ledger, with nothing changed: the
  // same second page.
  r = await book(Z.pays, Z.gets, { limit: 25 });
  const p1 = r.result.offers;
  const p2 = (await book(Z.pays, Z.gets, { limit: 25, marker: r.result.marker })).result.offers;
  const all50 = (await book(Z.pays, Z.gets, { limit: 50 })).result.offers;
  ok(JSON.stringify(p1.concat(p2).map((o) => o.index)) === JSON.stringify(all50.map((o) => o.index)),
    'book_offers: two pages of 25 are the first 50');

  // -- account_offers paging (E1 owns half the deep book) and its fields
  await submit(E1, { TransactionType: 'OfferCreate', TakerGets: swt(1), TakerPays: usd(I2, 20), Expiration: 2000000000, Flags: 0x00080000 });
  await accept();
  const e1Live = deep.filter((o) => o.who === E1 && !cancelled.has(o.key)).length + 1;
  const got = [];
  marker = undefined;
  let aPages = 0;
  do {
    r = await c.request({ command: 'account_offers', account: E1.address, ledger_index: 'validated', limit: 50, marker });
    if (!r.result) { ok(false, 'account_offers page', r); break; }
    got.push(...r.result.offers);
    marker = r.result.marker;
    aPages++;
  } while (marker && aPages < 50);
  const gotSeqs = got.map((o) => o.seq);
  ok(got.length === e1Live && new Set(gotSeqs).size === got.length && aPages === Math.ceil(e1Live / 50),
    'account_offers: pages of 50 list every offer once', { got: got.length, want: e1Live, pages: aPages });
  const sold = got.find((o) => o.expiration !== undefined);
  ok(sold && sold.expiration === 2000000000 && sold.flags === 0x00020000 && sold.quality === '0.00002' &&
     sold.taker_gets === '1000000' && sold.taker_pays?.value === '20' && got.filter((o) => o.expiration !== undefined).length === 1,
    'account_offers: seq, flags, taker_gets, taker_pays, quality, and expiration when set', sold);
  r = await c.request({ command: 'account_offers', account: E1.address, marker: '00'.repeat(32) });
  eq(r.error, 'invalidParams', 'account_offers: a marker that names no offer of the account');

  // -- the books stream
  // An offer whose owner cannot deliver (C's, frozen) is removed by the first taker that meets it,
  // as skywelld's offer stream does; let that happen before the stream is watched, with an
  // ImmediateOrCancel offer of the reverse book that takes nothing and never rests.
  const sweep = await submit(D, { TransactionType: 'OfferCreate', TakerGets: swt(1), TakerPays: cny(I, 5), Flags: 0x00020000 });
  await accept();
  r = await c.request({ command: 'tx', transaction: sweep.hash });
  ok(r.result && r.result.meta.AffectedNodes.some((n) => n.DeletedNode && n.DeletedNode.LedgerEntryType === 'Offer' &&
     n.DeletedNode.FinalFields.Account === C.address), 'a taker meeting an unfunded offer removes it', r.result && r.result.meta);
  const s1 = client(port), s2 = client(port), s3 = client(port);
  await Promise.all([s1.ready, s2.ready, s3.ready]);
  const validated = async (p, g) => (await book(p, g)).result.offers;
  r = await s1.request({ command: 'subscribe', books: [{ taker_pays: X.pays, taker_gets: X.gets, snapshot: true }] });
  ok(r.result && JSON.stringify(r.result.offers) === JSON.stringify(await validated(X.pays, X.gets)),
    'subscribe books with snapshot: offers as book_offers gives them', r.result);
  r = await s2.request({ command: 'subscribe', books: [{ taker_pays: X.pays, taker_gets: X.gets, snapshot: true, both: true }] });
  ok(r.result && r.result.offers === undefined &&
     JSON.stringify(r.result.bids) === JSON.stringify(await validated(X.pays, X.gets)) &&
     JSON.stringify(r.result.asks) === JSON.stringify(await validated(Xr.pays, Xr.gets)) && r.result.asks.length === 2,
    'subscribe books with both: bids the book, asks its reverse', r.result);
  r = await s3.request({ command: 'subscribe', streams: ['transactions'], books: [{ taker_pays: X.pays, taker_gets: X.gets }] });
  eq(r.status, 'success', 'subscribe transactions and a book');
  r = await s1.request({ command: 'subscribe', books: [{ taker_pays: X.pays, taker_gets: X.pays }] });
  eq(r.error, 'badMarket', 'subscribe books: one asset on both sides');
  r = await s1.request({ command: 'subscribe', books: [{ taker_pays: X.pays, taker_gets: X.gets, taker: 'jBAD' }] });
  eq(r.error, 'badIssuer', 'subscribe books: a malformed taker');

  const t1 = await submit(A, { TransactionType: 'OfferCreate', TakerGets: cny(I, 10), TakerPays: swt(130) }); // X
  const t2 = await submit(D, { TransactionType: 'OfferCreate', TakerGets: swt(1), TakerPays: cny(I, 3) }); // X reversed
  const t3 = await submit(E1, { TransactionType: 'OfferCreate', TakerGets: swt(1), TakerPays: usd(I2, 30) }); // another book
  const t4 = await submit(A, { TransactionType: 'OfferCancel', OfferSequence: t1.seq }); // X
  // One transaction in both directions: A cancels an offer of X and places one in its reverse.
  const t5 = await submit(A, { TransactionType: 'OfferCreate', TakerGets: swt(5), TakerPays: cny(I, 10), OfferSequence: a1.seq });
  const t6 = await submit(GENESIS, { TransactionType: 'Payment', Destination: A.address, Amount: swt(1) }); // no offer
  await accept();
  // The newest ledger's transaction IDs (served from memory) are the store's, in the same order.
  {
    const idx = (await c.request({ command: 'ledger_closed' })).result.ledger_index;
    const ids = (await c.request({ command: 'ledger', ledger_index: idx, transactions: true })).result.ledger.transactions;
    const full = (await c.request({ command: 'ledger', ledger_index: idx, transactions: true, expand: true })).result.ledger.transactions;
    ok(ids.length === 6 && JSON.stringify(ids) === JSON.stringify(full.map((t) => t.hash)),
      'ledger transactions of the newest ledger: the IDs in TransactionIndex order', { ids, full: full.map((t) => t.hash) });
  }
  const txs = async (s) => { await s.request({ command: 'ping' }); return s.pushed.filter((m) => m.type === 'transaction').map((m) => m.transaction.hash); };
  // A closed ledger's transactions come in the order they were submitted (TransactionIndex).
  const same = (a, b) => JSON.stringify(a.slice().sort()) === JSON.stringify(b.slice().sort()) && a.length === new Set(a).size;
  let h1 = await txs(s1), h2 = await txs(s2), h3 = await txs(s3);
  ok(same(h1, [t1, t4, t5].map((t) => t.hash)), 'books stream: the transactions of the book, none of others', h1);
  ok(same(h2, [t1, t2, t4, t5].map((t) => t.hash)), 'books stream with both: both directions, each transaction once', h2);
  ok(JSON.stringify(h3) === JSON.stringify([t1, t2, t3, t4, t5, t6].map((t) => t.hash)),
    'a transaction matching several subscriptions comes once, in the order submitted', h3);
  const m5 = s2.pushed.find((m) => m.type === 'transaction' && m.transaction.hash === t5.hash);
  ok(m5 && m5.validated === true && m5.status === 'closed' && m5.engine_result === 'tesSUCCESS' && m5.meta &&
     m5.meta.AffectedNodes && m5.ledger_index > 1, 'books stream: the usual transaction message', m5);

  r = await s1.request({ command: 'unsubscribe', books: [{ taker_pays: X.pays, taker_gets: X.gets }] });
  eq(r.status, 'success', 'unsubscribe books');
  r = await s2.request({ command: 'unsubscribe', books: [{ taker_pays: Xr.pays, taker_gets: Xr.gets }] });
  const t7 = await submit(A, { TransactionType: 'OfferCreate', TakerGets: cny(I, 1), TakerPays: swt(14) }); // X
  const t8 = await submit(D, { TransactionType: 'OfferCreate', TakerGets: swt(1), TakerPays: cny(I, 4) }); // X reversed
  await accept();
  h1 = await txs(s1); h2 = await txs(s2);
  ok(h1.length === 3 && same(h2.slice(4), [t7.hash]),
    'after unsubscribe: nothing from the book; unsubscribing one direction keeps the other', { h1: h1.length, h2: h2.slice(4), t8: t8.hash });

  // -- limits: per connection and across connections, on by default
  await s2.request({ command: 'unsubscribe', books: [{ taker_pays: X.pays, taker_gets: X.gets, both: true }] });
  await s3.close(); // its book goes with it
  const cur = ['AAA', 'BBB', 'CCC', 'DDD', 'EEE', 'FFF', 'GGG', 'HHH', 'JJJ'].map((code) => ({ currency: code, issuer: I.address }));
  const bk = (i, extra) => Object.assign({ taker_pays: X.pays, taker_gets: cur[i] }, extra);
  r = await s1.request({ command: 'subscribe', books: [bk(0), bk(1), bk(2, { both: true }), bk(3)] });
  eq(r.status, 'success', `books: ${MAX_BOOKS_PER_CONN - 1} directions on one connection`);
  r = await s1.request({ command: 'subscribe', books: [bk(4, { both: true })] });
  ok(r.error === 'invalidParams' && /per connection/.test(r.error_message), 'books: the per-connection limit', r);
  r = await s1.request({ command: 'subscribe', books: [bk(4)] });
  eq(r.status, 'success', 'books: up to the per-connection limit');
  r = await s2.request({ command: 'subscribe', books: [bk(5), bk(6)] });
  eq(r.status, 'success', 'books: a second connection');
  r = await s2.request({ command: 'subscribe', books: [bk(7)] });
  eq(r.error, 'tooBusy', 'books: the limit across connections');
  await s1.request({ command: 'unsubscribe', books: [bk(0)] });
  r = await s2.request({ command: 'subscribe', books: [bk(7)] });
  eq(r.status, 'success', 'books: room again after an unsubscribe');
  await s1.close();
  r = await s2.request({ command: 'subscribe', books: [bk(8), bk(0)] });
  eq(r.status, 'success', 'books: room again when a connection closes');
  await s2.close();

  await h.stopNode();
}

h.run(main);
