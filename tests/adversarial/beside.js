// beside.js — the well-behaved client of the adversarial suite, in a process
// of its own so that the attacker's work in the test process does not delay
// it: from 127.0.0.2, a ping every 20 ms and a payment every 250 ms until a
// line arrives on stdin; then prints {lat, submits, answered} as JSON.
//
//   node beside.js WS_PORT
'use strict';
const path = require('path');
const WebSocket = require(path.join(__dirname, '../interop/node_modules/ws'));
const GENESIS = { address: 'jHb9CJAWyB4jr91VRWn96DkukG4bwdtyTh', secret: 'snoPBjXtMeMyMHUVTgbuqAfg1SUTb' };
const sleep = (ms) => new Promise((res) => setTimeout(res, ms));

const ws = new WebSocket(`ws://127.0.0.1:${process.argv[2]}`, { localAddress: '127.0.0.2' });
const waiting = new Map();
let nextId = 1, stop = false;
ws.on('message', (d) => {
  const m = JSON.parse(d.toString());
  if (m.type === 'response' && waiting.has(m.id)) { waiting.get(m.id)(m); waiting.delete(m.id); }
});
const request = (obj, timeoutMs) => new Promise((resolve) => {
  const id = nextId++;
  const t = setTimeout(() => { waiting.delete(id); resolve({ timeout: true }); }, timeoutMs);
  waiting.set(id, (m) => { clearTimeout(t); resolve(m); });
  ws.send(JSON.stringify(Object.assign({ id }, obj)));
});
process.stdin.on('data', () => { stop = true; });
ws.on('open', async () => {
  console.log('ready');
  const lat = [];
  let submits = 0, answered = 0;
  const pinger = (async () => {
    while (!stop) {
      const t = process.hrtime.bigint();
      const r = await request({ command: 'ping' }, 10000);
      lat.push(r.timeout ? 10000 : Number(process.hrtime.bigint() - t) / 1e6);
      await sleep(20);
    }
  })();
  const payer = (async () => {
    while (!stop) {
      submits++;
      const r = await request({ command: 'submit', secret: GENESIS.secret,
        tx_json: { TransactionType: 'Payment', Account: GENESIS.address, Destination: 'jpLpucnjfX7ksggzc9Qw6hMSm1ATKJe3AF', Amount: '1000000', Fee: '10000' } }, 10000);
      if (r.result && r.result.engine_result) answered++;
      await sleep(250);
    }
  })();
  await Promise.all([pinger, payer]);
  console.log(JSON.stringify({ lat, submits, answered }));
  ws.terminate();
  process.exit(0);
});
ws.on('error', (e) => { console.log(JSON.stringify({ error: e.message })); process.exit(1); });
