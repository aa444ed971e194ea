// node_subs.js BUILD — integration tests of jt-node's account subscriptions
// over WebSocket: with many connections each subscribed to many accounts, a
// transaction reaches exactly the subscribers of the accounts it touches,
// once each and in ledger order (accounts and accounts_proposed);
// unsubscribe and a closed connection take a subscriber out; the limits
// max_accounts_per_conn (invalidParams) and max_accounts (tooBusy) subscribe
// nothing of a refused request. Starts a real jt-node on loopback and prints
// "ok NAME" / "not ok NAME - detail" lines.
'use strict';
const crypto = require('crypto');
const path = require('path');
const h = require(path.join(__dirname, 'harness.js'))('subs', 'jt-node-subs-', process.argv[2]);
const { ok, eq, keygen, client, submit, accept, GENESIS } = h;
const PER_CONN = 300, TOTAL = 1300, FILL = 200, NCONN = 6;

// ---------------------------------------------------------------- addresses
// Accounts nobody uses, by the thousand: random IDs in Jingtum's base58.
const ALPHABET = 'jpshnaf39wBUDNEGHJKLM4PQRST7VWXYZ2bcdeCg65rkm8oFqi1tuvAxyz';
const sha256 = (b) => crypto.createHash('sha256').update(b).digest();
function address(id) {
  const body = Buffer.concat([Buffer.from([0]), id]);
  const full = Buffer.concat([body, sha256(sha256(body)).subarray(0, 4)]);
  let n = BigInt('0x' + full.toString('hex')), s = '';
  while (n > 0n) { s = ALPHABET[Number(n % 58n)] + s; n /= 58n; }
  for (const b of full) { if (b) break; s = ALPHABET[0] + s; }
  return s;
}
const fillers = (n) => Array.from({ length: n }, () => address(crypto.randomBytes(20)));

const sleep = (ms) => new Promise((res) => setTimeout(res, ms));
// The transaction messages a client was pushed since `from`: [status:hash].
const txs = (cl, from = 0) => cl.pushed.slice(from).filter((m) => m.type === 'transaction')
  .map((m) => `${m.validated ? 'closed' : 'proposed'}:${m.transaction.hash}`);

async function main() {
  if (!h.init(`\n[limits]\nmax_accounts_per_conn = ${PER_CONN}\nmax_accounts = ${TOTAL}\n`)) return;
  const port = await h.startNode();
  const c = h.c = client(port);
  await c.ready;
  const A = keygen(), B = keygen(), D = keygen(), E = keygen();
  for (const who of [A, B, D, E])
    await submit(GENESIS, { TransactionType: 'Payment', Destination: who.address, Amount: '100000000' });
  await accept();

  // Six connections, each with FILL accounts of its own that no transaction
  // touches, and the test's accounts among them:
  //   s[0] accounts A        s[1] accounts A and B      s[2] accounts B
  //   s[3] accounts_proposed A                          s[4] none of them
  //   s[5] accounts D, accounts_proposed B
  const s = [];
  for (let i = 0; i < NCONN; i++) { s.push(client(port)); await s[i].ready; }
  const want = [[A], [A, B], [B], [], [], [D]];
  const wantP = [[], [], [], [A], [], [B]];
  let pairs = 0;
  for (let i = 0; i < NCONN; i++) {
    const accounts = fillers(FILL).concat(want[i].map((x) => x.address));
    const req = { command: 'subscribe', accounts };
    if (wantP[i].length) req.accounts_proposed = wantP[i].map((x) => x.address);
    const r = await s[i].request(req);
    eq(r.status, 'success', `subscribe ${accounts.length} accounts (connection ${i})`);
    pairs += accounts.length + wantP[i].length;
  }
  // The same account twice in one request counts once; again later, not at all.
  let r = await s[4].request({ command: 'subscribe', accounts: [E.address, E.address] });
  eq(r.status, 'success', 'an account named twice');
  r = await s[4].request({ command: 'subscribe', accounts: [E.address] });
  eq(r.status, 'success', 'an account subscribed again');
  pairs += 1;

  // Two transactions in one ledger: A→B (touches A, B), B→D (touches B, D).
  const mark = s.map((x) => x.pushed.length);
  const t1 = await submit(A, { TransactionType: 'Payment', Destination: B.address, Amount: '1000' });
  const t2 = await submit(B, { TransactionType: 'Payment', Destination: D.address, Amount: '1000' });
  await accept();
  await sleep(300);
  const got = s.map((x, i) => txs(x, mark[i]));
  const C1 = `closed:${t1.hash}`, C2 = `closed:${t2.hash}`;
  const P1 = `proposed:${t1.hash}`, P2 = `proposed:${t2.hash}`;
  const expect = [[C1], [C1, C2], [C1, C2], [P1], [], [P1, P2, C2]];
  for (let i = 0; i < NCONN; i++)
    ok(JSON.stringify(got[i]) === JSON.stringify(expect[i]),
      `connection ${i}: the transactions touching its accounts, once each, in order`, { got: got[i], want: expect[i] });
  // Every subscriber gets the same message.
  const msg = (cl, hash, from) => JSON.stringify(cl.pushed.slice(from).find((m) => m.type === 'transaction' && m.validated && m.transaction.hash === hash));
  const m1text = msg(s[1], t1.hash, mark[1]);
  ok(m1text !== undefined && msg(s[0], t1.hash, mark[0]) === m1text && msg(s[2], t1.hash, mark[2]) === m1text,
    'the same message to every subscriber');
  const m1 = JSON.parse(m1text || '{}');
  ok(m1.status === 'closed' && m1.engine_result === 'tesSUCCESS' && m1.meta && m1.ledger_index > 1,
    'a closed transaction message', m1);

  // (b) limits. s[1] has FILL + 2 accounts: PER_CONN - FILL - 2 more fit.
  const room = PER_CONN - FILL - 2;
  r = await s[1].request({ command: 'subscribe', accounts: fillers(room - 10).concat([E.address]),
    accounts_proposed: fillers(11) });
  ok(r.error === 'invalidParams' && /max_accounts_per_conn/.test(r.error_message),
    'past max_accounts_per_conn (accounts and accounts_proposed together): invalidParams naming it', r);
  r = await s[1].request({ command: 'subscribe', accounts: fillers(PER_CONN + 1) });
  ok(r.error === 'invalidParams' && /max_accounts_per_conn/.test(r.error_message), 'a request naming more than the limit', r);
  // The total: TOTAL - pairs is left for all connections together.
  const s6 = client(port);
  await s6.ready;
  const left = TOTAL - pairs;
  ok(left > 0 && left < PER_CONN - 1, 'the test leaves less room in total than on one connection', { left });
  r = await s6.request({ command: 'subscribe', accounts: fillers(left).concat([E.address]) });
  ok(r.error === 'tooBusy' && /max_accounts/.test(r.error_message), 'past max_accounts: tooBusy', r);
  r = await s6.request({ command: 'subscribe', accounts: fillers(left - 1).concat([E.address]) });
  eq(r.status, 'success', 'up to max_accounts exactly');
  r = await s6.request({ command: 'subscribe', accounts_proposed: [E.address] });
  eq(r.error, 'tooBusy', 'max_accounts is full');
  r = await s6.request({ command: 'unsubscribe', accounts: [E.address] });
  eq(r.status, 'success', 'unsubscribe one');
  r = await s6.request({ command: 'subscribe', accounts_proposed: [E.address] });
  eq(r.status, 'success', 'room again after an unsubscribe');
  // Nothing of the refused requests was subscribed: E's transaction goes to
  // s[4] (accounts) and s6 (accounts_proposed) only.
  const mark2 = s.map((x) => x.pushed.length), mark6 = s6.pushed.length;
  const t3 = await submit(E, { TransactionType: 'Payment', Destination: GENESIS.address, Amount: '1000' });
  await accept();
  await sleep(300);
  const got2 = s.map((x, i) => txs(x, mark2[i]));
  ok(JSON.stringify(got2) === JSON.stringify([[], [], [], [], [`closed:${t3.hash}`], []]) &&
     JSON.stringify(txs(s6, mark6)) === JSON.stringify([`proposed:${t3.hash}`]),
    'refused subscribes subscribed nothing', { got2, s6: txs(s6, mark6) });

  // Unsubscribe, and a closed connection, take subscribers out.
  r = await s[1].request({ command: 'unsubscribe', accounts: [A.address] });
  eq(r.status, 'success', 'unsubscribe A');
  await s[0].close();
  await s[5].close();
  await sleep(100);
  r = await s6.request({ command: 'subscribe', accounts: fillers(FILL) });
  eq(r.status, 'success', 'a closed connection\'s accounts no longer count');
  const mark3 = s.map((x) => x.pushed.length);
  const t4 = await submit(A, { TransactionType: 'Payment', Destination: D.address, Amount: '1000' });
  await accept();
  await sleep(300);
  const got3 = s.map((x, i) => txs(x, mark3[i]));
  ok(JSON.stringify(got3.slice(1, 5)) === JSON.stringify([[], [], [`proposed:${t4.hash}`], []]),
    'after unsubscribe and close: only the remaining subscribers', got3);
  r = await c.request({ command: 'ping' });
  eq(r.status, 'success', 'the node is still serving');
  for (const x of [s[1], s[2], s[3], s[4], s6]) await x.close();
  await c.close();
  await h.stopNode();
}

h.run(main);
