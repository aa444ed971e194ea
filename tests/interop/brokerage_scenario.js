// brokerage_scenario.js — platform fees with the unmodified jingtum-lib against jt-node.
//
//   node brokerage_scenario.js ws://127.0.0.1:PORT
//
// A platform P sets its fee with buildBrokerageTx (2% on SWT, 1% on CNY, collected by F);
// requestBrokerage (Fee_Info) lists both. Maker M (buildOfferCreateTx with platform P) sells
// 100 CNY for 1000 SWT; taker T (platform P) buys them. The expected amounts are worked out here
// from the rules in docs/node.md ("Platform fees"), not copied from the node: M receives 1000 SWT
// and pays 20 to F; T receives 100 CNY and pays 1 to F. The library's processed history
// (requestAccountTx) must show the platform and rate on both sides, the fee, and what each got
// net of it. Prints one "ok NAME" / "not ok NAME: detail" line per check.
'use strict';

const kit = require('./jl_kit')('brokerage', { ms: 8000, detail: 800 });
const { Request } = kit.jl;
const { check, call, submit, G, wallet } = kit;
let remote;
const [I, P, F, M, T] = [wallet(), wallet(), wallet(), wallet(), wallet()];
const cny = (v) => ({ value: String(v), currency: 'CNY', issuer: I.address });
const swtA = (v) => ({ value: String(v), currency: 'SWT', issuer: '' });

async function main() {

  for (const w of [I, P, F, M, T]) {
    const r = await submit(remote.buildPaymentTx({ account: G.address, to: w.address, amount: swtA(10000) }), G, 'fund');
    if (r.engine_result !== 'tesSUCCESS') throw new Error('fund: ' + JSON.stringify(r));
  }
  for (const w of [M, T]) await submit(remote.buildRelationTx({ type: 'trust', account: w.address, limit: cny(10000) }), w, 'trust');
  await submit(remote.buildPaymentTx({ account: I.address, to: M.address, amount: cny(100) }), I, 'issue');

  // the Brokerage transaction as jingtum-lib builds it
  let r = await submit(remote.buildBrokerageTx({ account: P.address, feeAccount: F.address, mol: 2, den: 100, amount: swtA(1) }), P, 'brokerage SWT');
  check('buildBrokerageTx (2/100 on SWT) applies', r.engine_result === 'tesSUCCESS', r);
  r = await submit(remote.buildBrokerageTx({ account: P.address, feeAccount: F.address, mol: 1, den: 100, amount: cny(1) }), P, 'brokerage CNY');
  check('buildBrokerageTx (1/100 on CNY) applies', r.engine_result === 'tesSUCCESS', r);
  r = await submit(remote.buildBrokerageTx({ account: P.address, feeAccount: F.address, mol: 5, den: 5, amount: cny(1) }), P, 'brokerage rate 1');
  check('buildBrokerageTx with a rate of 1 is refused (temBAD_AMOUNT)', r.engine_result === 'temBAD_AMOUNT', r);

  // requestBrokerage → Fee_Info
  const fi = await call(remote.requestBrokerage({ account: P.address }), 'Fee_Info');
  const bs = (fi && fi.brokerages) || [];
  const bSWT = bs.find((b) => b.FeeCurrency === 'SWT');
  const bCNY = bs.find((b) => b.FeeCurrency === 'CNY');
  check('requestBrokerage lists two fees', bs.length === 2 && fi.account === P.address && fi.validated === true, fi);
  check('requestBrokerage: the SWT fee', bSWT && bSWT.FeeCurrencyIssuer === '' && parseInt(bSWT.OfferFeeRateNum, 16) === 2 &&
        parseInt(bSWT.OfferFeeRateDen, 16) === 100 && bSWT.Platform === P.address && bSWT.fee_account === F.address, bSWT);
  check('requestBrokerage: the CNY fee', bCNY && bCNY.FeeCurrencyIssuer === I.address && parseInt(bCNY.OfferFeeRateNum, 16) === 1 &&
        parseInt(bCNY.OfferFeeRateDen, 16) === 100, bCNY);

  // the Brokerage in the platform's processed history
  let h = await call(remote.requestAccountTx({ account: P.address, limit: 50 }), 'account_tx P');
  const hb = h.transactions.find((x) => x.type === 'brokerage' && x.amount && x.amount.currency === 'CNY');
  check('history: brokerage entry (feeAccount, mol, den, amount)', hb && hb.feeAccount === F.address && hb.mol === 1 && hb.den === 100, hb);

  // the maker's offer, with platform P
  r = await submit(remote.buildOfferCreateTx({ type: 'Sell', account: M.address, taker_gets: cny(100), taker_pays: swtA(1000), platform: P.address }), M, 'maker offer');
  check('maker offer placed', r.engine_result === 'tesSUCCESS', r);
  const makerHash = r.tx_json.hash;
  // the taker, with platform P
  r = await submit(remote.buildOfferCreateTx({ type: 'Buy', account: T.address, taker_gets: swtA(1000), taker_pays: cny(100), platform: P.address }), T, 'taker offer');
  check('taker offer crosses', r.engine_result === 'tesSUCCESS', r);
  const takerHash = r.tx_json.hash;

  // balances: what the rules give
  const lines = async (w) => (await call(remote.requestAccountRelations({ account: w.address, type: 'trust' }), 'lines')).lines;
  const tl = (await lines(T)).find((l) => l.currency === 'CNY');
  const fl = (await lines(F)).find((l) => l.currency === 'CNY');
  check('taker holds 99 CNY (100 less the 1% fee)', tl && Number(tl.balance) === 99, tl);
  check('fee account holds 1 CNY', fl && Number(fl.balance) === 1, fl);
  const fInfo = await call(remote.requestAccountInfo({ account: F.address }), 'account_info F');
  check('fee account received 20 SWT (2% of the maker\'s 1000)', Number(fInfo.account_data.Balance) === 10020000000, fInfo.account_data);
  const mInfo = await call(remote.requestAccountInfo({ account: M.address }), 'account_info M');
  check('maker received 980 SWT net (less two fees of 0.01)', Number(mInfo.account_data.Balance) === 10000000000 - 10000 * 2 + 980000000, mInfo.account_data);

  // the taker's processed history: offer_bought with platform, rate and fee
  h = await call(remote.requestAccountTx({ account: T.address, limit: 50 }), 'account_tx T');
  const te = h.transactions.find((x) => x.hash === takerHash);
  const bought = te && te.effects.find((e) => e.effect === 'offer_bought');
  check('taker history: offer_bought shows platform and rate 0.01', bought && bought.platform === P.address && bought.rate === 0.01, te);
  check('taker history: got 99 CNY net, fee 1', bought && Number(bought.got.value) === 99 && Number(bought.fee) === 1, bought);
  check('taker history: totalRate 1', te && te.totalRate && Number(te.totalRate.value) === 1, te && te.totalRate);

  // the maker's processed history of the same fill: offer_funded with its offer's rate
  h = await call(remote.requestAccountTx({ account: M.address, limit: 50 }), 'account_tx M');
  const me = h.transactions.find((x) => x.hash === takerHash);
  const funded = me && me.effects.find((e) => e.effect === 'offer_funded');
  check('maker history: offer_funded shows platform and rate 0.02', funded && funded.platform === P.address && funded.rate === 0.02, me);
  check('maker history: got 980 SWT net, fee 20', funded && Number(funded.got.value) === 980 && Number(funded.fee) === 20, funded);
  const mc = h.transactions.find((x) => x.hash === makerHash);
  const created = mc && mc.effects.find((e) => e.effect === 'offer_created');
  check('maker history: offer_created shows platform and rate 0.02', created && created.platform === P.address && created.rate === 0.02, mc);

  remote.disconnect();
}

kit.run(async (r) => { remote = r; await main(); });
