// gw_harness.js — a real jt-gateway beside the node harness's real jt-node:
// init (with test settings: port 0, the cheapest keystore cost), start,
// stop, API keys, HTTP requests with keep-alive, a ledger closer, a
// /v2/events client and a webhook receiver.
//
//   const h = require('./harness')('gw', 'jt-gw-', build);
//   const g = require('./gw_harness')(h, build);
//   await g.init(nodePort); const port = await g.start(); const r = await g.api('GET', '/v2/health');
'use strict';
const { spawn, spawnSync } = require('child_process');
const crypto = require('crypto');
const fs = require('fs');
const http = require('http');
const path = require('path');
const readline = require('readline');

module.exports = function gwHarness(h, buildArg) {
  const build = path.resolve(buildArg || 'build/test');
  const GW = path.join(build, 'bin/jt-gateway');
  const g = {
    GW,
    dir: path.join(h.dir, 'gw'),
    proc: null,
    port: 0,
    logs: [],
    bodies: [], // every response body, for the secret scan
    passphrase: 'correct horse battery staple',
    agent: new http.Agent({ keepAlive: true, maxSockets: 64 }),
  };
  process.on('exit', () => { if (g.proc) g.proc.kill('SIGKILL'); });
  g.env = () => Object.assign({}, process.env, { JT_GATEWAY_PASSPHRASE: g.passphrase });

  // Sets [section] name = value in the config (replacing or adding).
  g.set = (section, name, value) => {
    const file = path.join(g.dir, 'jt-gateway.conf');
    const lines = fs.readFileSync(file, 'utf8').split('\n');
    let sec = '', done = false;
    for (let i = 0; i < lines.length; i++) {
      const m = /^\[(.*)\]/.exec(lines[i]);
      if (m) { if (sec === section && !done) { lines.splice(i, 0, `${name} = ${value}`); done = true; break; } sec = m[1]; continue; }
      if (sec === section && new RegExp(`^${name}\\s*=`).test(lines[i])) { lines[i] = `${name} = ${value}`; done = true; break; }
    }
    if (!done) lines.push(`[${section}]`, `${name} = ${value}`);
    fs.writeFileSync(file, lines.join('\n'));
  };

  g.init = (nodeUrl) => {
    const r = spawnSync(GW, ['init', '--data', g.dir, '--node', nodeUrl], { encoding: 'utf8' });
    if (!h.ok(r.status === 0, 'jt-gateway init', r.stderr)) return false;
    g.set('http', 'address', '127.0.0.1:0');
    g.set('keystore', 'kdf_cost', 'min');
    return true;
  };
  g.cli = (args, input) => spawnSync(GW, args.concat(['--data', g.dir]), { encoding: 'utf8', env: g.env(), input });
  g.apikey = (scopes, accounts) => {
    const args = ['apikey', 'create', '--scopes', scopes];
    if (accounts) args.push('--accounts', accounts);
    const r = g.cli(args);
    if (r.status !== 0) throw new Error('apikey create: ' + r.stderr);
    return r.stdout.trim();
  };

  g.start = (extraEnv) => new Promise((resolve, reject) => {
    g.proc = spawn(GW, ['run', '--data', g.dir], { stdio: ['ignore', 'ignore', 'pipe'], env: Object.assign(g.env(), extraEnv || {}) });
    const p = g.proc;
    readline.createInterface({ input: p.stderr }).on('line', (l) => {
      g.logs.push(l);
      if (process.env.JT_IT_VERBOSE) console.error('# gw: ' + l);
      const m = /event=start http=\S+:(\d+)/.exec(l);
      if (m) { g.port = +m[1]; resolve(g.port); }
    });
    p.on('exit', (code, sig) => {
      if (g.proc === p) { g.proc = null; reject(new Error(`jt-gateway exited: ${code} ${sig} ${g.logs.slice(-5).join(' | ')}`)); }
    });
  });
  g.stop = async (sig) => {
    if (!g.proc) return null;
    const p = g.proc;
    g.proc = null;
    const done = new Promise((res) => p.on('exit', (code, s) => res({ code, sig: s })));
    p.kill(sig || 'SIGTERM');
    return done;
  };

  // One HTTP request; resolves {status, headers, body (parsed JSON or text)}.
  g.api = (method, p, opts) => new Promise((resolve, reject) => {
    const o = opts || {};
    const headers = Object.assign({}, o.headers || {});
    if (o.key) headers.Authorization = 'Bearer ' + o.key;
    let data = null;
    if (o.body !== undefined) {
      data = typeof o.body === 'string' ? o.body : JSON.stringify(o.body);
      headers['Content-Type'] = 'application/json';
      headers['Content-Length'] = Buffer.byteLength(data);
    }
    const req = http.request({ host: '127.0.0.1', port: o.port || g.port, method, path: p, headers, agent: o.agent || g.agent }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString();
        g.bodies.push(text);
        let body = text;
        try { body = JSON.parse(text); } catch (e) { /* text */ }
        resolve({ status: res.statusCode, headers: res.headers, body });
      });
    });
    req.on('error', reject);
    req.setTimeout(60000, () => req.destroy(new Error('timeout: ' + method + ' ' + p)));
    if (data !== null) req.write(data);
    req.end();
  });

  // Closes a ledger every `ms` through the node's admin command.
  g.closer = (ms) => {
    let busy = false;
    const t = setInterval(async () => {
      if (busy || !h.node) return;
      busy = true;
      try { await h.accept(); } catch (e) { /* the node may be stopped on purpose */ }
      busy = false;
    }, ms);
    return () => clearInterval(t);
  };
  // A WebSocket client of /v2/events: every message kept in order.
  g.events = () => {
    const WebSocket = require(path.join(__dirname, '../interop/node_modules/ws'));
    const ws = new WebSocket(`ws://127.0.0.1:${g.port}/v2/events`);
    const c = { ws, msgs: [], closed: false };
    ws.on('message', (d) => c.msgs.push(JSON.parse(d.toString())));
    ws.on('close', () => { c.closed = true; });
    c.ready = new Promise((res, rej) => { ws.on('open', res); ws.on('error', rej); });
    c.send = (o) => ws.send(JSON.stringify(o));
    // Waits for the first message from index `from` on that pred accepts.
    c.wait = async (pred, ms, from) => {
      const end = Date.now() + (ms || 10000);
      for (;;) {
        const m = c.msgs.slice(from || 0).find(pred);
        if (m) return m;
        if (Date.now() > end) return null;
        await new Promise((res) => setTimeout(res, 20));
      }
    };
    c.cmd = async (o) => {
      const n = c.msgs.length;
      c.send(o);
      return c.wait((m) => m.command === o.command, 10000, n);
    };
    c.events = (pred) => c.msgs.filter((m) => m.event && (!pred || pred(m)));
    c.close = () => new Promise((res) => { if (c.closed) return res(); ws.on('close', res); ws.close(); });
    return c;
  };

  // A webhook receiver; `answer(req, n)` gives the status of the n-th request.
  g.receiver = (answer, port) => {
    const r = { reqs: [], port: 0 };
    r.server = http.createServer((req, res) => {
      const chunks = [];
      req.on('data', (d) => chunks.push(d));
      req.on('end', () => {
        const raw = Buffer.concat(chunks);
        const entry = { headers: req.headers, raw, body: JSON.parse(raw.toString()), at: Date.now() };
        r.reqs.push(entry);
        entry.status = answer(entry, r.reqs.length);
        res.writeHead(entry.status, { 'Content-Type': 'text/plain' });
        res.end('ok');
      });
    });
    r.ready = new Promise((res) => r.server.listen(port || 0, '127.0.0.1', () => { r.port = r.server.address().port; res(); }));
    r.close = () => new Promise((res) => r.server.close(res));
    r.url = () => `http://127.0.0.1:${r.port}/hook`;
    return r;
  };
  // X-JT-Signature of a webhook body.
  g.hmac = (secret, raw) => 'sha256=' + crypto.createHmac('sha256', secret).update(raw).digest('hex');

  g.waitHealthy = async (ms) => {
    const end = Date.now() + (ms || 15000);
    while (Date.now() < end) {
      const r = await g.api('GET', '/v2/health').catch(() => null);
      if (r && r.status === 200) return true;
      await new Promise((res) => setTimeout(res, 100));
    }
    return false;
  };

  // The usual start: a jt-node with a client (h.c), a jt-gateway on it with
  // `settings` ([[section, name, value], …]) and an admin key, a ledger
  // closer every 150 ms, and the link healthy. { admin, stopCloser }, or
  // null when a step failed (already reported).
  g.boot = async (settings) => {
    if (!h.init()) return null;
    const nodePort = await h.startNode();
    h.c = h.client(nodePort);
    await h.c.ready;
    if (!g.init(`ws://127.0.0.1:${nodePort}`)) return null;
    for (const [section, name, value] of settings || []) g.set(section, name, String(value));
    const admin = g.apikey('admin', '*');
    await g.start();
    const stopCloser = g.closer(150);
    if (!h.ok(await g.waitHealthy(20000), 'the gateway is up, its node link healthy')) return null;
    return { admin, stopCloser };
  };
  return g;
};
