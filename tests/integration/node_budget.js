// node_budget.js — request budgets ([limits] request_budget, address_budget):
// each request costs units (a ping 1, a book_offers page 25, ...), paid from
// its connection's bucket and its address's; over either, `slowDown`, and the
// connection stays open; another address is not affected.
//
//   node tests/integration/node_budget.js [BUILD]
'use strict';
const h = require('./harness')('budget', 'jt-node-budget-', process.argv[2]);
const { ok, eq } = h;

const RATE = 200, ADDR_RATE = 300; // bursts: twice these
const sleep = (ms) => new Promise((res) => setTimeout(res, ms));

// Sends n copies of req at once; counts answers by outcome and times them.
async function burst(c, req, n) {
  const t0 = Date.now();
  const rs = await Promise.all(Array.from({ length: n }, () => c.request(req)));
  const secs = (Date.now() - t0) / 1000;
  const good = rs.filter((r) => r.status === 'success').length;
  const slow = rs.filter((r) => r.error === 'slowDown').length;
  return { good, slow, other: n - good - slow, secs };
}

h.run(async () => {
  if (!h.init(`request_budget = ${RATE}\naddress_budget = ${ADDR_RATE}\n`.replace(/^/, '[limits]\n'))) return;
  const port = await h.startNode();
  const a = h.client(port);
  await a.ready;

  // One connection: its burst (2 x RATE), then RATE a second.
  let r = await burst(a, { command: 'ping' }, 1000);
  ok(r.slow > 0 && r.other === 0, 'pings past the budget get slowDown', r);
  ok(r.good >= 2 * RATE - 5 && r.good <= 2 * RATE + RATE * r.secs + 5, 'about the burst of pings is served', r);
  const ping = await a.request({ command: 'ping' });
  ok(ping.status === 'success' || ping.error === 'slowDown', 'the connection stays open after slowDown', ping);

  // A book_offers page costs 25: a full bucket serves 2 x RATE / 25 of them.
  await sleep(2200);
  const book = { command: 'book_offers', taker_gets: { currency: 'SWT' }, taker_pays: { currency: 'CNY', issuer: h.GENESIS.address } };
  r = await burst(a, book, 100);
  const fit = (2 * RATE) / 25;
  ok(r.good >= fit - 1 && r.good <= fit + (RATE * r.secs) / 25 + 2 && r.slow > 0, 'book_offers costs more than ping', r);

  // Two connections from one address share its budget (2 x ADDR_RATE).
  await sleep(2200);
  const b = h.client(port);
  await b.ready;
  const [ra, rb] = await Promise.all([burst(a, { command: 'ping' }, 500), burst(b, { command: 'ping' }, 500)]);
  const both = ra.good + rb.good, secs = Math.max(ra.secs, rb.secs);
  ok(both >= 2 * ADDR_RATE - 5 && both <= 2 * ADDR_RATE + ADDR_RATE * secs + 5,
    'two connections of one address share the address budget', { ra, rb });

  // Another address has budgets of its own.
  const c = h.client(port, { localAddress: '127.0.0.2' });
  await c.ready;
  r = await burst(c, { command: 'ping' }, 50);
  eq(r.good, 50, 'a client from another address is served in full meanwhile');

  // And the budget refills.
  await sleep(1500);
  r = await a.request({ command: 'ping' });
  eq(r.status, 'success', 'after a pause the connection is served again');
  await Promise.all([a.close(), b.close(), c.close()]);
});
