// pathfind_scenario.js — path finding with the unmodified jingtum-lib against jt-node.
//
//   node pathfind_scenario.js ws://HOST:PORT
//
// Gateway I issues CNY; market maker M holds 1000 CNY and sells it for SWT at 10 SWT per CNY;
// destination D trusts I for CNY; sender S holds SWT only, sender H holds 50 CNY of I.
//  - S asks for a path to deliver 10 CNY to D (requestPathFind, which sends path_find create then
//    close): an SWT alternative through the book, costing 100 SWT (10 per CNY). A payment built
//    with setPath(key) of that alternative (Paths and SendMax from the answer) delivers 10 CNY.
//  - H asks for 5 CNY to D: a CNY alternative (rippling through the issuer) of 5 CNY; the payment
//    built from it delivers 5 CNY.
//  - D asks for a currency nobody offers: no alternatives.
// Prints one "ok NAME" / "not ok NAME: detail" line per check.
'use strict';

const kit = require('./jl_kit')('pathfind', { ms: 15000, detail: 1500 });
const { Request } = kit.jl;
const { check, call, submit, G, wallet } = kit;
let remote;
const [I, M, D, S, H] = [wallet(), wallet(), wallet(), wallet(), wallet()];
const cny = (v, iss) => ({ value: String(v), currency: 'CNY', issuer: iss || I.address });
const swtA = (v) => ({ value: String(v), currency: 'SWT', issuer: '' });
const cnyOf = async (w) => {
  const r = await call(remote.requestAccountRelations({ account: w.address, type: 'trust' }), 'lines');
  const l = r.lines.find((x) => x.currency === 'CNY');
  return l ? Number(l.balance) : 0;
};

async function main() {

  for (const w of [I, M, D, S, H]) {
    const r = await submit(remote.buildPaymentTx({ account: G.address, to: w.address, amount: swtA(100000) }), G, 'fund');
    if (r.engine_result !== 'tesSUCCESS') throw new Error('fund: ' + JSON.stringify(r));
  }
  for (const w of [M, D, H]) await submit(remote.buildRelationTx({ type: 'trust', account: w.address, limit: cny(100000) }), w, 'trust');
  await submit(remote.buildPaymentTx({ account: I.address, to: M.address, amount: cny(1000) }), I, 'issue M');
  await submit(remote.buildPaymentTx({ account: I.address, to: H.address, amount: cny(50) }), I, 'issue H');
  const r0 = await submit(remote.buildOfferCreateTx({ type: 'Sell', account: M.address, taker_gets: cny(1000), taker_pays: swtA(10000) }), M, 'offer');
  check('maker offer placed', r0.engine_result === 'tesSUCCESS', r0);

  // SWT → CNY through the book
  let alts = await call(remote.requestPathFind({ account: S.address, destination: D.address, amount: cny(10) }), 'path_find S');
  const swtAlt = alts.find((a) => a.choice && a.choice.currency === 'SWT');
  check('requestPathFind: an SWT alternative', !!swtAlt, alts);
  check('requestPathFind: it costs 100 SWT', swtAlt && Number(swtAlt.choice.value) === 100, swtAlt);
  const item = swtAlt && remote._paths.get(swtAlt.key);
  const paths = item && JSON.parse(item.path);
  check('paths_computed: a path through the book to CNY', Array.isArray(paths) && paths.length >= 1 &&
        paths.some((p) => p.some((e) => e.currency === 'CNY' && e.issuer === I.address)), item);
  if (swtAlt) {
    const tx = remote.buildPaymentTx({ account: S.address, to: D.address, amount: cny(10) });
    const e = tx.setPath(swtAlt.key);
    check('setPath accepts the key', !(e instanceof Error), e && e.message);
    const r = await submit(tx, S, 'pay S');
    check('payment built with setPath succeeds', r.engine_result === 'tesSUCCESS', r);
    check('destination holds 10 CNY', (await cnyOf(D)) === 10);
  }

  // CNY → CNY through the issuer
  alts = await call(remote.requestPathFind({ account: H.address, destination: D.address, amount: cny(5, D.address) }), 'path_find H');
  const cnyAlt = alts.find((a) => a.choice && a.choice.currency === 'CNY');
  check('requestPathFind: a CNY alternative of 5 CNY', cnyAlt && Number(cnyAlt.choice.value) === 5, alts);
  if (cnyAlt) {
    const tx = remote.buildPaymentTx({ account: H.address, to: D.address, amount: cny(5) });
    const e = tx.setPath(cnyAlt.key);
    check('setPath accepts the key (CNY)', !(e instanceof Error), e && e.message);
    const r = await submit(tx, H, 'pay H');
    check('payment through the issuer succeeds', r.engine_result === 'tesSUCCESS', r);
    check('destination holds 15 CNY', (await cnyOf(D)) === 15);
  }

  // nobody offers USD
  alts = await call(remote.requestPathFind({ account: S.address, destination: D.address, amount: { value: '1', currency: 'USD', issuer: I.address } }), 'path_find USD');
  check('no path: no alternatives', Array.isArray(alts) && alts.length === 0, alts);

  // jingtum-lib closed each request after its answer
  const sq = new Request(remote, 'path_find');
  sq.message.subcommand = 'status';
  const raw = await call(sq, 'path_find status').then((x) => x, (err) => ({ error: String(err) }));
  check('path_find status after close: noPathRequest', raw && /noPathRequest|No pathfinding request/.test(raw.error || ''), raw);

  remote.disconnect();
}

kit.run(async (r) => { remote = r; await main(); });
