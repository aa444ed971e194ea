// node_idle.js — idle connections ([limits] idle_timeout_s): a connection
// nothing arrives from for that long is closed (event=idle_close), before
// its first request too, unless it holds a subscription; one that keeps
// talking stays.
//
//   node tests/integration/node_idle.js [BUILD]
'use strict';
const h = require('./harness')('idle', 'jt-node-idle-', process.argv[2]);
const { ok } = h;

const IDLE_S = 2;
const sleep = (ms) => new Promise((res) => setTimeout(res, ms));
const isOpen = async (c, ms) => Promise.race([c.closed.then(() => false), sleep(ms).then(() => true)]);

h.run(async () => {
  if (!h.init(`[limits]\nidle_timeout_s = ${IDLE_S}\n`)) return;
  const port = await h.startNode();
  const silent = h.client(port);
  const asked = h.client(port);
  const talker = h.client(port);
  const subscriber = h.client(port);
  await Promise.all([silent.ready, asked.ready, talker.ready, subscriber.ready]);
  await asked.request({ command: 'ping' });
  const r = await subscriber.request({ command: 'subscribe', streams: ['ledger'] });
  ok(r.status === 'success', 'subscribe', r);
  const t0 = Date.now();
  const talking = (async () => {
    while (Date.now() - t0 < (IDLE_S + 3) * 1000) {
      await talker.request({ command: 'ping' });
      await sleep(500);
    }
  })();
  ok(!(await isOpen(silent, (IDLE_S + 3) * 1000)), 'a connection that never sent a request is closed after idle_timeout_s');
  const waited = (Date.now() - t0) / 1000;
  ok(waited >= IDLE_S - 0.5, 'not before idle_timeout_s', { waited });
  ok(!(await isOpen(asked, 1000)), 'a connection silent since its last request is closed');
  await talking;
  ok(await isOpen(talker, 10), 'a connection that keeps sending stays open');
  ok(await isOpen(subscriber, 10), 'a silent subscriber stays open');
  const closes = h.logs.filter((l) => /event=idle_close/.test(l));
  ok(closes.length === 2 && closes.every((l) => /idle_s=2/.test(l)), 'each idle close is logged', closes);
  await Promise.all([talker.close(), subscriber.close()]);
});
