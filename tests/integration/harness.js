// harness.js — what the WebSocket integration scripts share: ok/eq lines,
// a real jt-node on loopback in a temporary data directory (killed and
// removed at exit), JSON-RPC clients over WebSocket, and transactions
// signed by the node for the test's accounts.
//
//   const h = require('./harness')('book', 'jt-node-book-', process.argv[2]);
//   ... h.ok(cond, name, detail); await h.init(); const port = await h.startNode(); ...
'use strict';
const { spawn, spawnSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');
const readline = require('readline');
const WebSocket = require(path.join(__dirname, '../interop/node_modules/ws'));

module.exports = function harness(tag, dirPrefix, buildArg) {
  const build = path.resolve(buildArg || 'build/test');
  const NODE = path.join(build, 'bin/jt-node');
  const WALLET = path.join(build, 'bin/jt-wallet');
  const h = {
    NODE, WALLET,
    GENESIS: { address: 'jHb9CJAWyB4jr91VRWn96DkukG4bwdtyTh', secret: 'snoPBjXtMeMyMHUVTgbuqAfg1SUTb' },
    RESERVE_BASE: 10000000, RESERVE_INC: 1000000,
    failures: 0,
    dir: fs.mkdtempSync(path.join(os.tmpdir(), dirPrefix)),
    node: null,
    logs: [], // the node's log lines (stderr), in order
    c: null, // the main client, for submit()
  };
  process.on('exit', () => { if (h.node) h.node.kill('SIGKILL'); fs.rmSync(h.dir, { recursive: true, force: true }); });

  h.ok = (cond, name, detail) => {
    if (cond) console.log(`ok [${tag}] ${name}`);
    else { h.failures++; console.log(`not ok [${tag}] ${name} - ${detail === undefined ? '' : JSON.stringify(detail).slice(0, 4000)}`); }
    return cond;
  };
  h.eq = (actual, expected, name) => h.ok(actual === expected, name, { actual, expected });
  h.sleep = (ms) => new Promise((r) => setTimeout(r, ms));
  // Polls cond (sync or async) every `step` ms until it holds or `ms` pass.
  h.until = async (cond, ms, step) => {
    const end = Date.now() + ms;
    while (Date.now() < end) {
      if (await cond()) return true;
      await h.sleep(step || 100);
    }
    return false;
  };
  h.keygen = () => JSON.parse(spawnSync(WALLET, ['keygen'], { encoding: 'utf8' }).stdout);

  // jt-node init, with `conf` appended to its configuration; false when it fails.
  h.init = (conf) => {
    const init = spawnSync(NODE, ['init', '--data', h.dir, '--json'], { encoding: 'utf8' });
    if (!h.ok(init.status === 0, 'jt-node init', init.stderr)) return false;
    if (conf) fs.appendFileSync(path.join(h.dir, 'jt-node.conf'), conf);
    return true;
  };
  // Starts jt-node (WebSocket only, closes on ledger_accept); resolves to its port.
  h.startNode = () => new Promise((resolve, reject) => {
    h.node = spawn(NODE, ['run', '--data', h.dir, '--ws', '127.0.0.1:0', '--jtp', '', '--close-ms', '0'],
      { stdio: ['ignore', 'ignore', 'pipe'] });
    readline.createInterface({ input: h.node.stderr }).on('line', (l) => {
      h.logs.push(l);
      if (process.env.JT_IT_VERBOSE) console.error('# node: ' + l);
      const m = /event=start .* ws=\S+:(\d+)/.exec(l);
      if (m) resolve(+m[1]);
    });
    h.node.on('exit', (code, sig) => {
      if (h.node) console.log(`not ok [${tag}] jt-node exited unexpectedly - code ${code} signal ${sig}`);
      reject(new Error('jt-node exited with ' + code));
    });
  });
  h.stopNode = async () => {
    if (!h.node) return;
    const n = h.node;
    h.node = null;
    n.kill('SIGTERM');
    await new Promise((res) => n.on('exit', res));
  };

  // opts: the ws library's client options (e.g. localAddress).
  h.client = (port, opts) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}`, opts);
    const waiting = new Map();
    const pushed = [];
    let nextId = 1;
    ws.on('message', (d) => {
      const m = JSON.parse(d.toString());
      if (m.type === 'response' && waiting.has(m.id)) { waiting.get(m.id)(m); waiting.delete(m.id); } else pushed.push(m);
    });
    return {
      pushed,
      closed: new Promise((res) => ws.on('close', res)),
      ready: new Promise((res, rej) => { ws.on('open', res); ws.on('error', rej); }),
      close: () => new Promise((res) => { ws.on('close', res); ws.close(); }),
      request(obj) {
        const id = nextId++;
        return new Promise((resolve, reject) => {
          const t = setTimeout(() => reject(new Error('timeout: ' + JSON.stringify(obj).slice(0, 200))), 30000);
          waiting.set(id, (m) => { clearTimeout(t); resolve(m); });
          ws.send(JSON.stringify(Object.assign({ id }, obj)));
        });
      },
    };
  };

  // ---- transactions, through the main client h.c
  const seqs = new Map();
  h.nextSeq = async (a) => {
    if (!seqs.has(a)) {
      const r = await h.c.request({ command: 'account_info', account: a, ledger_index: 'current' });
      seqs.set(a, r.result.account_data.Sequence);
    }
    const s = seqs.get(a);
    seqs.set(a, s + 1);
    return s;
  };
  // Signed by the node (loopback), applied to the open ledger; returns {hash, seq}.
  h.submit = async (who, tx) => {
    const seq = await h.nextSeq(who.address);
    const tx_json = Object.assign({ Account: who.address, Fee: '10000', Flags: 0, Sequence: seq }, tx);
    const r = await h.c.request({ command: 'submit', secret: who.secret, tx_json });
    const er = r.result && r.result.engine_result;
    if (er !== 'tesSUCCESS') throw new Error(`${tx.TransactionType} by ${who.address}: ${er || r.error} ${JSON.stringify(tx)}`);
    return { hash: r.result.tx_json.hash, seq };
  };
  h.accept = () => h.c.request({ command: 'ledger_accept' });

  // Runs main() and exits 1 on a failure or an exception.
  h.run = (main) => main().then(() => process.exit(h.failures ? 1 : 0), (e) => {
    console.log(`not ok [${tag}] unexpected error - ${e.stack}`);
    process.exit(1);
  });
  return h;
};
