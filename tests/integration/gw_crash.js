// gw_crash.js BUILD — the body of test_gateway_crash.sh: a real jt-node
// closing ledgers, a real jt-gateway, and a client streaming payments
// (distinct client_ids, some with ?wait=validated, from two accounts) while
// the gateway is killed with SIGKILL at random moments and restarted.
//
// After every restart:
//   * each request answered before (any status) is looked up by client_id:
//     one the gateway said it had (200/202/422) is found with the same hash
//     and a status that did not go back (validated stays validated with its
//     result; failed/expired stay so); one refused before signing (503
//     nodeUnavailable/tooBusy) is absent;
//   * each request never answered is absent or found with a true status;
//     half of them are then re-POSTed with the same body, as a client
//     would: it is the same transaction if there was one (the answer carries
//     its hash), or a new one otherwise — never a second one;
//   * every payment reported validated is validated on the node with that
//     result (tx).
// At the end, once every request is final: on the node (account_tx of each
// sender), every payment carries its request's DestinationTag, so each
// request's payment is counted: no request applied twice, no payment
// without a request, the number of validated payments equals the number of
// requests whose final status is validated, and each sender's sequences are
// distinct. Prints "# figures rounds=… answered=… validated=… duplicates=…
// lost=…".
//
// Environment: JT_GW_CRASH_ROUNDS (20), JT_SEED (random), JT_GW_CRASH_WORKERS
// (6 concurrent clients), JT_GW_CRASH_CLOSE_MS (200: a ledger closed every …).
'use strict';
const build = process.argv[2];
const h = require('./harness')('gw-crash', 'jt-gw-crash-', build);
const g = require('./gw_harness')(h, build);

const ROUNDS = parseInt(process.env.JT_GW_CRASH_ROUNDS || '20', 10);
const WORKERS = parseInt(process.env.JT_GW_CRASH_WORKERS || '6', 10);
const CLOSE_MS = parseInt(process.env.JT_GW_CRASH_CLOSE_MS || '200', 10);
const SEED = process.env.JT_SEED ? parseInt(process.env.JT_SEED, 10) >>> 0 : (Math.random() * 2 ** 32) >>> 0;
const G = h.GENESIS;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

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

// Every request: {n, account, cid, body, wait, answers: [{status, body}], hash, final}
const reqs = [];
const problems = [];
const problem = (msg) => { if (problems.length < 200) problems.push(msg); };

h.run(async () => {
  console.log(`# seed ${SEED}`);
  if (!h.init()) return;
  const nodePort = await h.startNode();
  h.c = h.client(nodePort);
  await h.c.ready;
  if (!g.init(`ws://127.0.0.1:${nodePort}`)) return;
  g.set('limits', 'key_rate', '100000');
  g.set('limits', 'key_burst', '100000');
  const admin = g.apikey('admin', '*');
  await g.start();
  const stopCloser = g.closer(CLOSE_MS);
  h.ok(await g.waitHealthy(20000), 'the gateway is healthy');
  let r = await g.api('POST', '/v2/wallet/import', { key: admin, body: { secret: G.secret } });
  h.eq(r.status, 201, 'genesis imported');
  const senders = [];
  for (let i = 0; i < 2; i++) {
    r = await g.api('POST', '/v2/wallet/new', { key: admin, body: { label: `sender${i}` } });
    senders.push(r.body.wallet.address);
  }
  for (const a of senders) {
    r = await g.api('POST', `/v2/accounts/${G.address}/payments?wait=validated`,
      { key: admin, body: { client_id: `fund-${a}`, payment: { destination: a, amount: { value: '100000', currency: 'SWT' } } } });
    h.ok(r.status === 200 && r.body.status === 'validated', `sender ${a.slice(0, 8)}… funded`, r.body);
  }
  // The gateway follows accounts it holds from its next start.
  await g.stop();
  await g.start();
  await g.waitHealthy(20000);
  const key = g.apikey('read,sign', senders.join(','));

  const post = (q) => g.api('POST', `/v2/accounts/${q.account}/payments${q.wait ? '?wait=validated' : ''}`, { key, body: q.body });
  const lookup = (q) => g.api('GET', `/v2/accounts/${q.account}/payments/${encodeURIComponent(q.cid)}`, { key });
  // An answer the gateway gave: what it means for the request.
  const take = (q, res) => {
    q.answers.push({ status: res.status, body: res.body });
    const b = res.body || {};
    if (b.hash) {
      if (q.hash && q.hash !== b.hash) problem(`${q.cid}: answered with hash ${b.hash}, earlier ${q.hash}`);
      q.hash = q.hash || b.hash;
    }
    if (b.status) q.lastStatus = b.status;
    if (b.status === 'validated') q.validated = q.validated || { result: b.result, ledger: b.ledger_index };
  };

  // ---- the stream
  let streaming = false, nextN = 1;
  const worker = async (w) => {
    while (streaming) {
      const n = nextN++;
      const account = senders[n % senders.length];
      const q = { n, account, cid: `c-${n}`, wait: rand() < 0.3, answers: [], errors: 0 };
      q.body = { client_id: q.cid, payment: { destination: G.address, amount: { value: '0.001', currency: 'SWT' }, destination_tag: n } };
      reqs.push(q);
      try {
        take(q, await post(q));
        q.postAnswered = true;
      } catch (e) {
        q.errors++;
        await sleep(20);
      }
      await sleep(rand() * 10);
    }
  };

  // ---- the checks after a restart
  const checkedOnNode = new Set();
  const check = async (label) => {
    const answered = reqs.filter((q) => q.answers.length);
    const unanswered = reqs.filter((q) => !q.answers.length);
    const issues = [];
    const par = async (items, fn) => {
      let i = 0;
      await Promise.all(Array.from({ length: 8 }, async () => { while (i < items.length) await fn(items[i++]); }));
    };
    await par(answered, async (q) => {
      if (q.final && rand() > 0.1) return; // final ones are checked again now and then
      const first = q.answers[0];
      const gotTx = [200, 202, 422].includes(first.status) && first.body && first.body.hash;
      let res;
      try { res = await lookup(q); } catch (e) { issues.push(`${q.cid}: GET failed: ${e.message}`); return; }
      if (!gotTx && q.answers.every((a) => a.status === 503 || a.status === 429)) {
        if (res.status !== 404) issues.push(`${q.cid}: refused (nothing signed) but now ${res.status} ${JSON.stringify(res.body).slice(0, 120)}`);
        return;
      }
      if (res.status !== 200) { issues.push(`${q.cid}: answered ${first.status} ${JSON.stringify(first.body).slice(0, 120)} but GET is ${res.status} ${JSON.stringify(res.body).slice(0, 120)}`); return; }
      if (q.hash && res.body.hash !== q.hash) issues.push(`${q.cid}: GET hash ${res.body.hash}, answered ${q.hash}`);
      if (q.validated && res.body.status !== 'validated') issues.push(`${q.cid}: was validated, now ${res.body.status}`);
      if (q.validated && res.body.result !== q.validated.result) issues.push(`${q.cid}: result ${res.body.result}, was ${q.validated.result}`);
      if (['failed', 'expired'].includes(q.lastStatus) && res.body.status !== q.lastStatus) issues.push(`${q.cid}: was ${q.lastStatus}, now ${res.body.status}`);
      take(q, res);
      if (res.body.status !== 'pending') q.final = res.body.status;
    });
    // Unanswered: absent, or found with a status checked like the others;
    // then half of them are retried with the same body, as a client would
    // (the other half stay unanswered until the end).
    await par(unanswered, async (q) => {
      let res;
      try { res = await lookup(q); } catch (e) { issues.push(`${q.cid}: GET failed: ${e.message}`); return; }
      if (res.status === 200 && res.body.hash) take(q, res);
      else if (res.status !== 404) issues.push(`${q.cid}: never answered, GET is ${res.status} ${JSON.stringify(res.body).slice(0, 120)}`);
      if (q.noRetry || (q.noRetry === undefined && (q.noRetry = rand() < 0.5))) return;
      try { res = await post(Object.assign({}, q, { wait: false })); } catch (e) { issues.push(`${q.cid}: re-POST failed: ${e.message}`); return; }
      take(q, res);
      q.retried = true;
      if (res.status >= 500 && res.status !== 503) issues.push(`${q.cid}: re-POST answered ${res.status}`);
    });
    // Validated ones are validated on the node, with the same result.
    const fresh = reqs.filter((q) => q.validated && !checkedOnNode.has(q.cid));
    await par(fresh, async (q) => {
      const t = await h.c.request({ command: 'tx', transaction: q.hash });
      const res = t.result || {};
      if (!res.validated || !res.meta || res.meta.TransactionResult !== q.validated.result || res.DestinationTag !== q.n) {
        issues.push(`${q.cid}: reported validated (${q.validated.result}), the node says ${JSON.stringify(t).slice(0, 200)}`);
      }
      checkedOnNode.add(q.cid);
    });
    for (const i of issues) problem(`${label}: ${i}`);
    h.ok(issues.length === 0, `${label}: ${answered.length} answered requests found with their true status, ${unanswered.length} unanswered looked up (half of them re-sent)`, issues.slice(0, 8));
  };

  // ---- rounds
  const t0 = Date.now();
  for (let round = 1; round <= ROUNDS; round++) {
    streaming = true;
    const workers = Array.from({ length: WORKERS }, (_, i) => worker(i));
    await sleep(300 + rand() * 1200);
    const end = await g.stop('SIGKILL');
    streaming = false;
    await Promise.all(workers);
    if (!end || end.sig !== 'SIGKILL') h.ok(false, `round ${round}: the gateway was killed`, end);
    // Down for a while, sometimes past a few ledgers.
    await sleep(rand() < 0.25 ? 1500 + rand() * 2000 : rand() * 300);
    await g.start();
    if (!h.ok(await g.waitHealthy(30000), `round ${round}: the gateway is healthy after the restart`, g.logs.slice(-5))) break;
    await check(`round ${round}`);
  }

  // ---- the end: everything final, then the node's account
  const deadline = Date.now() + 40000;
  let open = [];
  // Every request not final yet is looked up (also those whose only
  // answers were refusals or a lost connection): found, or absent.
  for (;;) {
    open = reqs.filter((q) => !q.final && !q.absent);
    for (const q of open) {
      const res = await lookup(q);
      if (res.status === 200) { take(q, res); if (res.body.status !== 'pending') q.final = res.body.status; } else if (res.status === 404) q.absent = true;
    }
    open = open.filter((q) => !q.final && !q.absent);
    if (!open.length || Date.now() > deadline) break;
    await sleep(500);
  }
  const absentWithHash = reqs.filter((q) => q.absent && q.hash);
  h.ok(absentWithHash.length === 0, 'no request the gateway gave a hash for is unknown to it', absentWithHash.slice(0, 5).map((q) => q.cid));
  h.ok(open.length === 0, 'every request with a transaction reaches a final status', open.slice(0, 5).map((q) => [q.cid, q.lastStatus]));
  await check('the end');
  stopCloser();
  await h.accept();

  const seen = new Map(); // DestinationTag -> hashes
  let seqDup = 0, stray = 0, validatedOnNode = 0;
  for (const a of senders) {
    const seqs = new Set();
    let marker;
    for (;;) {
      const req = { command: 'account_tx', account: a, ledger_index_min: -1, ledger_index_max: -1, limit: 400, forward: true };
      if (marker) req.marker = marker;
      const t = await h.c.request(req);
      for (const e of t.result.transactions) {
        if (e.tx.Account !== a) continue;
        if (seqs.has(e.tx.Sequence)) seqDup++;
        seqs.add(e.tx.Sequence);
        if (e.tx.TransactionType !== 'Payment') continue;
        validatedOnNode++;
        const tag = e.tx.DestinationTag;
        if (!tag) { stray++; continue; }
        if (!seen.has(tag)) seen.set(tag, []);
        seen.get(tag).push(e.tx.hash);
      }
      if (!t.result.marker) break;
      marker = t.result.marker;
    }
  }
  let duplicates = 0, lost = 0, wrong = 0;
  const byN = new Map(reqs.map((q) => [q.n, q]));
  for (const [tag, hs] of seen) {
    if (hs.length > 1) { duplicates += hs.length - 1; problem(`request ${tag} applied ${hs.length} times: ${hs.join(' ')}`); }
    const q = byN.get(tag);
    if (!q) { stray++; continue; }
    if (q.final !== 'validated') { wrong++; problem(`c-${tag} is on the ledger (${hs[0]}) but its status is ${q.final || q.lastStatus || 'unknown'}`); } else if (q.hash !== hs[0]) { wrong++; problem(`c-${tag}: hash ${q.hash} reported, ${hs[0]} on the ledger`); }
  }
  const validatedReqs = reqs.filter((q) => q.final === 'validated');
  for (const q of validatedReqs) if (!seen.has(q.n)) { lost++; problem(`${q.cid} reported validated (${q.hash}) but not in the sender's history`); }
  const answered = reqs.filter((q) => q.postAnswered).length;
  const neverAnswered = reqs.filter((q) => !q.postAnswered && !q.retried).length;
  h.ok(duplicates === 0 && stray === 0, 'no request applied twice, no payment without a request', { duplicates, stray });
  h.ok(validatedOnNode === validatedReqs.length && lost === 0 && wrong === 0,
    'validated payments on the node = requests whose final status is validated', { validatedOnNode, validated: validatedReqs.length, lost, wrong });
  h.eq(seqDup, 0, 'no sequence used twice by a sender');
  h.ok(problems.length === 0, 'no problem found in any round', problems.slice(0, 20));
  const counts = {};
  for (const q of reqs) { const k = q.final || (q.absent ? 'absent' : q.answers.length ? `answered-${q.answers[q.answers.length - 1].status}` : 'unanswered'); counts[k] = (counts[k] || 0) + 1; }
  console.log(`# statuses: ${JSON.stringify(counts)}`);
  const end = await g.stop();
  h.ok(end && end.code === 0 && !g.logs.some((l) => /Sanitizer|runtime error/.test(l)), 'the gateway stops cleanly at the end', end);
  console.log(`# figures rounds=${ROUNDS} requests=${reqs.length} answered=${answered} never_answered=${neverAnswered} validated=${validatedReqs.length} ` +
    `duplicates=${duplicates} lost=${lost} seconds=${((Date.now() - t0) / 1000).toFixed(0)}`);
});
