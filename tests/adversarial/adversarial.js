// adversarial.js — jt-node against hostile clients and careless operators
// (docs/operations.md): each row starts from a real jt-node, runs one attack
// from loopback addresses, and checks what the node did; for the rows about
// service to others, a well-behaved client from another address (ping every
// 20 ms, a payment every 250 ms) must keep its ping p99 under 50 ms and have
// every submit answered. The node's RSS is reported before, at the peak and
// after each attack; the peak must stay under the configured budget plus
// 100 MB.
//
//   node tests/adversarial/adversarial.js [BUILD]     short form (CI)
//   ADV_FULL=1 node ...                               the sizes of the table
'use strict';
const { spawn, spawnSync } = require('child_process');
const fs = require('fs');
const net = require('net');
const os = require('os');
const path = require('path');
const readline = require('readline');
const WebSocket = require(path.join(__dirname, '../interop/node_modules/ws'));

const build = path.resolve(process.argv[2] || 'build/test');
const NODE = path.join(build, 'bin/jt-node');
const JTPCAT = path.join(build, 'tests/jtpcat');
const FULL = process.env.ADV_FULL === '1';
const MB = 1 << 20;
const OUT_BUDGET = FULL ? 512 * MB : 64 * MB;
const IN_BUDGET = FULL ? 256 * MB : 32 * MB;
const GENESIS = { address: 'jHb9CJAWyB4jr91VRWn96DkukG4bwdtyTh', secret: 'snoPBjXtMeMyMHUVTgbuqAfg1SUTb' };
const sleep = (ms) => new Promise((res) => setTimeout(res, ms));
const crypto = require('crypto');
const JCHARS = 'jpshnaf39wBUDNEGHJKLM4PQRST7VWXYZ2bcdeCg65rkm8oFqi1tuvAxyz';
// A random account address (version 0, 20 random bytes, checksum), Jingtum's alphabet.
function randomAddress() {
  const body = Buffer.concat([Buffer.from([0]), crypto.randomBytes(20)]);
  const sum = crypto.createHash('sha256').update(crypto.createHash('sha256').update(body).digest()).digest();
  const all = Buffer.concat([body, sum.subarray(0, 4)]);
  let n = BigInt('0x' + all.toString('hex'));
  let out = '';
  while (n > 0n) { out = JCHARS[Number(n % 58n)] + out; n /= 58n; }
  for (let i = 0; i < all.length && all[i] === 0; i++) out = JCHARS[0] + out; // leading zero bytes
  return out;
}

let failures = 0;
const ok = (cond, name, detail) => {
  if (cond) console.log(`ok [adversarial] ${name}`);
  else { failures++; console.log(`not ok [adversarial] ${name} - ${JSON.stringify(detail === undefined ? '' : detail).slice(0, 2000)}`); }
  return cond;
};

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'jt-node-adv-'));
let node = null;
const logs = [];
process.on('exit', () => { if (node) node.kill('SIGKILL'); fs.rmSync(dir, { recursive: true, force: true }); });

function startNode() {
  return new Promise((resolve, reject) => {
    node = spawn(NODE, ['run', '--data', dir, '--ws', '127.0.0.1:0', '--jtp', '127.0.0.1:0', '--close-ms', '0'],
      { stdio: ['ignore', 'ignore', 'pipe'], env: Object.assign({}, process.env, { ASAN_OPTIONS: 'detect_leaks=0:quarantine_size_mb=8' }) });
    readline.createInterface({ input: node.stderr }).on('line', (l) => {
      logs.push(l);
      if (process.env.JT_IT_VERBOSE) console.error('# node: ' + l);
      const m = /event=start .* ws=\S+:(\d+) jtp=\S+:(\d+) .*node_key=(\S+)/.exec(l);
      if (m) resolve({ ws: +m[1], jtp: +m[2], key: m[3] });
    });
    node.on('exit', (code, sig) => { if (node) { console.log(`not ok [adversarial] jt-node exited - ${code} ${sig}`); failures++; } reject(new Error('exit')); });
  });
}

function rssMB(kind = 'VmRSS') {
  try {
    const m = new RegExp(kind + ':\\s+(\\d+) kB').exec(fs.readFileSync(`/proc/${node.pid}/status`, 'utf8'));
    return m ? +m[1] / 1024 : 0;
  } catch (e) { return 0; }
}

function client(port, localAddress) {
  const ws = new WebSocket(`ws://127.0.0.1:${port}`, { localAddress, maxPayload: 256 * MB });
  const waiting = new Map();
  let nextId = 1;
  ws.on('message', (d) => {
    const m = JSON.parse(d.toString());
    if (m.type === 'response' && waiting.has(m.id)) { waiting.get(m.id)(m); waiting.delete(m.id); }
  });
  ws.on('error', () => {});
  return {
    ws,
    ready: new Promise((res, rej) => { ws.on('open', res); ws.on('error', rej); ws.on('close', () => rej(new Error('closed'))); }),
    closed: new Promise((res) => ws.on('close', res)),
    request(obj, timeoutMs = 30000) {
      const id = nextId++;
      return new Promise((resolve) => {
        const t = setTimeout(() => { waiting.delete(id); resolve({ timeout: true }); }, timeoutMs);
        waiting.set(id, (m) => { clearTimeout(t); resolve(m); });
        if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(Object.assign({ id }, obj)));
      });
    },
    close() { try { ws.terminate(); } catch (e) { /* gone */ } },
  };
}

// The well-behaved client (beside.js, a process of its own): from 127.0.0.2,
// pings every 20 ms and pays every 250 ms while `during` runs; the node's
// RSS is sampled every 100 ms.
// memory: a row about the node's memory, not about service to others: its
// latency beside the attack is printed, not held to 50 ms.
async function beside(ports, name, during, memory = false) {
  const child = spawn(process.execPath, [path.join(__dirname, 'beside.js'), String(ports.ws)], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = readline.createInterface({ input: child.stdout });
  const out = [];
  let readyRes;
  const ready = new Promise((res) => { readyRes = res; });
  lines.on('line', (l) => { if (l === 'ready') readyRes(); else out.push(l); });
  const done = new Promise((res) => child.on('exit', res));
  await ready;
  const before = rssMB();
  let peak = before;
  let peakFile = 0;
  const sampler = setInterval(() => {
    const r = rssMB();
    if (r > peak) { peak = r; peakFile = rssMB('RssFile'); }
  }, 100);
  let detail;
  try { detail = await during(); } finally {
    clearInterval(sampler);
    child.stdin.write('stop\n');
    await done;
  }
  await sleep(500);
  const after = rssMB();
  const res = out.length ? JSON.parse(out[out.length - 1]) : { lat: [], submits: 0, answered: 0 };
  const lat = (res.lat || []).sort((x, y) => x - y);
  const q = (p) => lat.length ? lat[Math.min(lat.length - 1, Math.floor(p * lat.length))] : Infinity;
  console.log(`# ${name}: rss before ${before.toFixed(0)} MB, peak ${peak.toFixed(0)} MB (${peakFile.toFixed(0)} MB of it file pages), after ${after.toFixed(0)} MB; ` +
    `beside it: ${lat.length} pings p50 ${q(0.5).toFixed(1)} ms p99 ${q(0.99).toFixed(1)} ms max ${q(1).toFixed(1)} ms, submits answered ${res.answered}/${res.submits}` +
    (detail ? `; ${detail}` : ''));
  if (!memory) ok(q(0.99) < 50, `${name}: the client beside it keeps its ping p99 under 50 ms`, { p99: q(0.99), n: lat.length });
  ok(res.answered === res.submits && res.submits > 0, `${name}: every submit of the client beside it is answered`, res.error || { answered: res.answered, submits: res.submits });
  return { before, peak, after };
}

// A client that connects while an attack runs: served within a second?
async function newcomer(port, localAddress) {
  const c = client(port, localAddress);
  const t0 = Date.now();
  try {
    await Promise.race([c.ready, sleep(1000).then(() => { throw new Error('no connection'); })]);
    const r = await c.request({ command: 'ping' }, 1000);
    return r.status === 'success' && Date.now() - t0 < 1000;
  } catch (e) {
    return false;
  } finally {
    c.close();
  }
}

// Opens n connections of kind ('ws' | 'tcp') spread over 127.0.0.(base..);
// resolves to the sockets still open after `settleMs`.
async function flood(kind, port, n, base, perAddr, settleMs) {
  const socks = [];
  for (let i = 0; i < n; i++) {
    const localAddress = `127.0.0.${base + Math.floor(i / perAddr)}`;
    const s = net.connect({ port, host: '127.0.0.1', localAddress });
    s.on('error', () => {});
    s.open = true;
    s.on('close', () => { s.open = false; });
    s.got = '';
    s.on('data', (d) => { if (s.got.length < 64) s.got += d.toString('latin1'); });
    if (kind === 'ws') {
      s.on('connect', () => s.write('GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
        'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n'));
    }
    socks.push(s);
    if (i % 50 === 49) await sleep(5);
  }
  await sleep(settleMs);
  return socks;
}

let ctlPort = 0;
const ctlClient = () => client(ctlPort, '127.0.0.9');

async function main() {
  const init = spawnSync(NODE, ['init', '--data', dir, '--json'], { encoding: 'utf8' });
  if (!ok(init.status === 0, 'jt-node init', init.stderr)) return;
  fs.appendFileSync(path.join(dir, 'jt-node.conf'),
    `[limits]\nmax_outbuf_total = ${OUT_BUDGET}\nmax_inbuf_total = ${IN_BUDGET}\n`);
  const ports = await startNode();
  ctlPort = ports.ws;
  const ctl = client(ports.ws, '127.0.0.1');
  await ctl.ready;
  // A ledger with enough transactions that its expanded form is a large reply.
  const big = FULL ? 2000 : 600;
  await Promise.all(Array.from({ length: big }, () => ctl.request({ command: 'submit', secret: GENESIS.secret,
    tx_json: { TransactionType: 'Payment', Account: GENESIS.address, Destination: 'jpLpucnjfX7ksggzc9Qw6hMSm1ATKJe3AF', Amount: '1000000', Fee: '10000' } })));
  const acc = await ctl.request({ command: 'ledger_accept' });
  const bigLedger = acc.result.ledger_current_index - 1;
  ctl.close();

  // 1. Idle WebSocket connections from one address.
  const idleN = FULL ? 2000 : 300;
  let socks;
  await beside(ports, `${idleN} idle WebSocket connections from one address`, async () => {
    socks = await flood('ws', ports.ws, idleN, 1, idleN, 1500);
    const held = socks.filter((s) => s.open && /^HTTP\/1\.1 101/.test(s.got)).length;
    ok(held <= 64, 'idle WebSocket flood: the node holds at most 64 from one address', { held });
    ok(await newcomer(ports.ws, '127.0.0.3'), 'idle WebSocket flood: a new client from another address connects and is served');
    return `${held} of ${idleN} held open`;
  });
  socks.forEach((s) => s.destroy());
  await sleep(300);

  // 2. Silent TCP connections to the jtp port.
  const tcpN = FULL ? 1100 : 300;
  await beside(ports, `${tcpN} silent TCP connections to the jtp port`, async () => {
    socks = await flood('tcp', ports.jtp, tcpN, 1, tcpN, 1500);
    const open = socks.filter((s) => s.open).length;
    ok(open <= 64 + 8, 'silent jtp flood: about 64 stay open from one address (the rest are closed at accept)', { open });
    ok(await newcomer(ports.ws, '127.0.0.3'), 'silent jtp flood: a new WebSocket client from another address connects and is served');
    return `${open} of ${tcpN} held open`;
  });
  socks.forEach((s) => s.destroy());
  await sleep(300);

  // 3. Clients that never read, asking for large replies.
  const readers = FULL ? 300 : 40;
  const rs = await beside(ports, `${readers} clients that never read, 18 large replies each`, async () => {
    const cs = [];
    for (let i = 0; i < readers; i++) {
      const c = client(ports.ws, `127.0.0.${10 + Math.floor(i / 50)}`);
      try { await c.ready; } catch (e) { continue; }
      c.ws._socket.pause(); // never reads again
      for (let k = 0; k < 18; k++) c.request({ command: 'ledger', ledger_index: bigLedger, transactions: true, expand: true }, 60000);
      cs.push(c);
    }
    await sleep(FULL ? 8000 : 4000);
    const cut = logs.filter((l) => /event=slow_consumer/.test(l)).length;
    cs.forEach((c) => c.close());
    return `${cs.length} connected, ${cut} cut as slow consumers`;
  }, true);
  ok(rs.peak - rs.before < OUT_BUDGET / MB + 100, 'never-reading clients: RSS stays under the output budget + 100 MB', rs);

  // 4. Half-sent WebSocket messages (1 MB announced, half sent).
  const halfN = FULL ? 1000 : 150;
  const hs = await beside(ports, `${halfN} half-sent 1 MB WebSocket messages`, async () => {
    socks = await flood('ws', ports.ws, halfN, 20, 50, 300);
    const half = Buffer.alloc(512 * 1024, 0x61);
    const hdr = Buffer.from([0x81, 0xff, 0, 0, 0, 0, 0, 0x0f, 0x42, 0x40, 1, 2, 3, 4]); // FIN text, masked, 1 000 000 bytes
    for (const s of socks) if (s.open) { s.write(hdr); s.write(half); }
    await sleep(FULL ? 6000 : 3000);
    const held = socks.filter((s) => s.open).length;
    const cut = logs.filter((l) => /event=input_budget/.test(l)).length;
    socks.forEach((s) => s.destroy());
    return `${held} still open, ${cut} closed by the input budget`;
  }, true);
  ok(hs.peak - hs.before < IN_BUDGET / MB + 100, 'half-sent messages: RSS stays under the input budget + 100 MB', hs);

  // 5. jtp sessions with throw-away keys (no allow list), from one address.
  const sessN = FULL ? 1024 : 100;
  const cats = [];
  await beside(ports, `${sessN} jtp sessions with throw-away keys from one address`, async () => {
    for (let i = 0; i < sessN; i++) {
      const p = spawn(JTPCAT, [`jtp://127.0.0.1:${ports.jtp}?key=${ports.key}`], { stdio: ['pipe', 'ignore', 'ignore'] });
      p.alive = true;
      p.on('exit', () => { p.alive = false; });
      cats.push(p);
      if (i % 20 === 19) await sleep(50);
    }
    await sleep(3000);
    const alive = cats.filter((p) => p.alive).length;
    ok(alive <= 64, 'throw-away jtp sessions: the node holds at most 64 from one address', { alive });
    ok(await newcomer(ports.ws, '127.0.0.3'), 'throw-away jtp sessions: a new client from another address is served');
    return `${alive} of ${sessN} sessions held`;
  });
  cats.forEach((p) => p.kill('SIGKILL'));
  await sleep(300);

  // 6. Many connections subscribed to many accounts, with payments flowing.
  const subN = FULL ? 1000 : 50, perConn = 1000, pool = Array.from({ length: 2000 }, randomAddress);
  await beside(ports, `${subN} connections x ${perConn} subscribed accounts, 150 payments/s`, async () => {
    const subs = [];
    let refusedTotal = 0;
    for (let i = 0; i < subN; i++) {
      const c = client(ports.ws, `127.0.0.${50 + Math.floor(i / 60)}`);
      try { await c.ready; } catch (e) { continue; }
      const start = (i * 37) % (pool.length - perConn);
      const accts = pool.slice(start, start + perConn);
      c.got = 0;
      c.ws.on('message', (d) => { if (JSON.parse(d.toString()).type === 'transaction') c.got++; });
      const r = await c.request({ command: 'subscribe', accounts: accts });
      if (r.status === 'success') { c.accts = new Set(accts); subs.push(c); } else if (r.error === 'tooBusy') { refusedTotal++; c.close(); } else c.close();
    }
    ok(subs.length * perConn <= 100000, 'subscriptions: no more than max_accounts accounts are subscribed', { subscribed: subs.length * perConn });
    ok(FULL ? refusedTotal > 0 : refusedTotal === 0, 'subscriptions: past max_accounts a subscribe gets tooBusy', { refusedTotal });
    const pay = ctlClient();
    await pay.ready;
    // One at a time (the node fills in Sequence), about 150 a second, a
    // ledger closed every 15; only the payments that applied count.
    const dests = [];
    const t0 = Date.now();
    let sent = 0;
    while (Date.now() - t0 < 3000) {
      const d = pool[Math.floor(Math.random() * pool.length)];
      const r = await pay.request({ command: 'submit', secret: GENESIS.secret,
        tx_json: { TransactionType: 'Payment', Account: GENESIS.address, Destination: d, Amount: '20000000', Fee: '10000' } });
      if (r.result && r.result.engine_result === 'tesSUCCESS') dests.push(d);
      if (++sent % 15 === 0) await pay.request({ command: 'ledger_accept' });
      await sleep(Math.max(0, t0 + (sent * 1000) / 150 - Date.now()));
    }
    await pay.request({ command: 'ledger_accept' });
    await sleep(1500);
    const want = subs.reduce((n, c) => n + dests.filter((d) => c.accts.has(d)).length, 0);
    const got = subs.reduce((n, c) => n + c.got, 0);
    ok(got === want, 'subscriptions: each payment reaches exactly the subscribers of its destination', { got, want });
    subs.forEach((c) => c.close());
    pay.close();
    ok(dests.length > sent / 2, 'subscriptions: most payments applied', { applied: dests.length, sent });
    return `${subs.length} subscribed, ${dests.length} of ${sent} payments applied, ${got} messages`;
  });

  // 7. One client pipelining book_offers.
  const pipeN = 1500;
  await beside(ports, `one client pipelining ${pipeN} book_offers`, async () => {
    const c = client(ports.ws, '127.0.0.40');
    await c.ready;
    const rsps = await Promise.all(Array.from({ length: pipeN }, () => c.request({ command: 'book_offers',
      taker_gets: { currency: 'SWT' }, taker_pays: { currency: 'CNY', issuer: GENESIS.address } })));
    const slow = rsps.filter((r) => r.error === 'slowDown').length;
    const good = rsps.filter((r) => r.status === 'success').length;
    ok(good + slow === pipeN, 'pipelined book_offers: every request answered (served or slowDown)', { good, slow });
    c.close();
    return `${good} served, ${slow} slowDown`;
  });

  // 8. Frames against RFC 6455, and JSON keys with NUL bytes.
  await beside(ports, 'unmasked WebSocket frames and a key "command\\u0000x"', async () => {
    const frame = (op, payload, mask) => {
      const p = Buffer.from(payload);
      const head = Buffer.from([0x80 | op, (mask ? 0x80 : 0) | p.length]);
      if (!mask) return Buffer.concat([head, p]);
      const key = Buffer.from([0x5a, 0xa5, 0x3c, 0xc3]);
      return Buffer.concat([head, key, Buffer.from(p.map((b, i) => b ^ key[i & 3]))]);
    };
    const n = FULL ? 200 : 50;
    const socks = await flood('ws', ports.ws, n, 60, 50, 500);
    const opened = socks.filter((s) => s.open && /^HTTP\/1\.1 101/.test(s.got));
    ok(opened.length === n, 'RFC 6455: every raw client is upgraded', { opened: opened.length, n });
    // Half send an unmasked request, half a masked one whose key holds a NUL.
    const bodies = new Map();
    opened.forEach((s, i) => {
      bodies.set(s, Buffer.alloc(0));
      s.removeAllListeners('data');
      s.on('data', (d) => bodies.set(s, Buffer.concat([bodies.get(s), d])));
      s.write(i % 2 ? frame(1, '{"id":1,"command\\u0000x":"ping"}', true) : frame(1, '{"id":1,"command":"ping"}', false));
    });
    await sleep(1500);
    let closed1002 = 0, answered = 0, nulRefused = 0;
    opened.forEach((s, i) => {
      const b = bodies.get(s);
      if (i % 2 === 0) {
        // Expected: one close frame with 1002 and nothing else, then EOF.
        if (!s.open && b.length >= 4 && b[0] === 0x88 && b.readUInt16BE(2) === 1002) closed1002++;
        if (b.includes('"response"')) answered++;
      } else if (s.open && b.includes('"jsonInvalid"') && !b.includes('"pong"') && !b.includes('"success"')) {
        nulRefused++;
      }
    });
    const half = opened.length / 2;
    ok(closed1002 === Math.ceil(half) && answered === 0, 'RFC 6455: an unmasked client frame closes the connection with 1002, unanswered', { closed1002, answered });
    ok(nulRefused === Math.floor(half), 'JSON: a key "command\\u0000x" is refused as jsonInvalid, not read as "command"', { nulRefused });
    socks.forEach((s) => s.destroy());
    return `${closed1002} closed with 1002, ${nulRefused} NUL keys refused`;
  });

  const v = spawnSync(NODE, ['verify', '--data', dir], { encoding: 'utf8' });
  ok(/in use by jt-node pid/.test(v.stderr) && v.status !== 0, 'verify beside the running node is refused, naming its pid', v.stderr);
  const n = node; node = null;
  n.kill('SIGTERM');
  await new Promise((res) => n.on('exit', res));
  const v2 = spawnSync(NODE, ['verify', '--data', dir], { encoding: 'utf8' });
  ok(v2.status === 0, 'jt-node verify passes after the attacks', v2.stdout + v2.stderr);
}

main().then(() => process.exit(failures ? 1 : 0), (e) => { console.log(`not ok [adversarial] unexpected error - ${e.stack}`); process.exit(1); });
