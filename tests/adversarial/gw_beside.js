// gw_beside.js — the well-behaved client of the gateway's adversarial rows,
// in a process of its own: from 127.0.0.2 over one keep-alive connection,
// a balance read every 20 ms and a payment (no wait) every 250 ms, with its
// own API key, until a line arrives on stdin; then prints
// {lat, submits, answered} as JSON (lat: the reads' latencies in ms).
//
//   node gw_beside.js PORT KEY ACCOUNT DESTINATION
'use strict';
const http = require('http');
const [port, key, account, dest] = process.argv.slice(2);
const sleep = (ms) => new Promise((res) => setTimeout(res, ms));
const agent = new http.Agent({ keepAlive: true, maxSockets: 2, localAddress: '127.0.0.2' });
let stop = false;

const call = (method, path, body) => new Promise((resolve) => {
  const data = body ? JSON.stringify(body) : null;
  const headers = { Authorization: 'Bearer ' + key };
  if (data) { headers['Content-Type'] = 'application/json'; headers['Content-Length'] = Buffer.byteLength(data); }
  const req = http.request({ host: '127.0.0.1', port, method, path, headers, agent }, (res) => {
    res.resume();
    res.on('end', () => resolve(res.statusCode));
  });
  req.on('error', () => resolve(0));
  req.setTimeout(10000, () => req.destroy());
  if (data) req.write(data);
  req.end();
});

process.stdin.on('data', () => { stop = true; });
(async () => {
  await call('GET', `/v2/accounts/${account}/balances`); // the connection is up
  console.log('ready');
  const lat = [];
  let submits = 0, answered = 0, n = 0;
  const reader = (async () => {
    while (!stop) {
      const t = process.hrtime.bigint();
      const st = await call('GET', `/v2/accounts/${account}/balances`);
      lat.push(st === 200 ? Number(process.hrtime.bigint() - t) / 1e6 : 10000);
      await sleep(20);
    }
  })();
  const payer = (async () => {
    while (!stop) {
      submits++;
      const st = await call('POST', `/v2/accounts/${account}/payments`,
        { client_id: `beside-${process.pid}-${n++}`, payment: { destination: dest, amount: { value: '0.001', currency: 'SWT' } } });
      if (st === 200 || st === 202) answered++;
      await sleep(250);
    }
  })();
  await Promise.all([reader, payer]);
  console.log(JSON.stringify({ lat, submits, answered }));
  process.exit(0);
})();
