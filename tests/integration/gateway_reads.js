// gateway_reads.js — reads stay right while ledgers close under them.
// jt-gateway asks the node for an account's state at the last ledger it
// has seen validated, and jt-node keeps the state of its last closed
// ledger only: when the node has closed another ledger by the time the
// request reaches it, it answers lgrNotFound. That is no answer to give a
// client whose account exists (it was a 404): the gateway asks again at a
// newer ledger. Here ledgers close back to back while clients read the
// balances, info and offers of a funded account; every read must be a 200
// with the account's real balance, and the answers name a ledger that only
// moves forward for each reader.
'use strict';

const build = process.argv[2];
const h = require('./harness')('gateway-reads', 'jt-gw-reads-', build);
const g = require('./gw_harness')(h, build);
const G = h.GENESIS;
const sleep = (ms) => new Promise((res) => setTimeout(res, ms));

h.run(async () => {
  const up = await g.boot([['limits', 'key_rate', 100000], ['limits', 'key_burst', 100000]]);
  if (!up) return;
  const { admin, stopCloser } = up;
  let r = await g.api('GET', `/v2/accounts/${G.address}/balances`, { key: admin });
  h.ok(r.status === 200, 'a balance read before the race', r.body);

  // Ledgers closed back to back, as fast as the node takes ledger_accept.
  let closing = true, closes = 0;
  const closer = (async () => {
    while (closing) {
      await h.accept();
      closes++;
    }
  })();
  const statuses = {}, tokens = {};
  let wrong = 0, backwards = 0, reads = 0;
  const reader = async (path, check) => {
    let last = 0;
    const end = Date.now() + 4000;
    while (Date.now() < end) {
      const res = await g.api('GET', path, { key: admin });
      reads++;
      statuses[res.status] = (statuses[res.status] || 0) + 1;
      if (res.status !== 200) {
        const t = res.body && res.body.error;
        tokens[t] = (tokens[t] || 0) + 1;
        continue;
      }
      if (!check(res.body)) wrong++;
      const li = res.body.ledger_index;
      if (typeof li === 'number') {
        if (li < last) backwards++;
        last = li;
      }
    }
  };
  const swtOf = (b) => (b.balances || []).find((x) => x.currency === 'SWT');
  const jobs = [];
  for (let i = 0; i < 6; i++) {
    jobs.push(reader(`/v2/accounts/${G.address}/balances`, (b) => { const s = swtOf(b); return s && Number(s.value) > 0; }));
    jobs.push(reader(`/v2/accounts/${G.address}/info`, (b) => b.account_data && b.account_data.Account === G.address));
  }
  await Promise.all(jobs);
  closing = false;
  await closer;
  h.ok(closes > 20, `ledgers closed back to back during the reads (${closes} in 4 s)`, { closes });
  h.ok(reads > 200 && statuses[200] === reads, 'every read during the closes is a 200 (no lgrNotFound, no 404)', { reads, statuses, tokens });
  h.eq(wrong, 0, 'every answer holds the account');
  h.eq(backwards, 0, 'the ledger an answer names never goes back for one reader');
  stopCloser();
});
