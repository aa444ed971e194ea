// node_admin.js — who is admin ([admin] in jt-node.conf): by peer address for
// WebSocket (default loopback only; "none" for nobody, as behind a reverse
// proxy on the same host), and the admin-only commands: ledger_accept,
// submit with a secret, stop.
//
//   node tests/integration/node_admin.js [BUILD]
'use strict';
const fs = require('fs');
const path = require('path');
const { spawnSync } = require('child_process');
const h = require('./harness')('admin', 'jt-node-admin-', process.argv[2]);
const { ok, eq } = h;

// Rewrites the [admin] addresses of the node's configuration.
function setAdmin(lines) {
  const file = path.join(h.dir, 'jt-node.conf');
  const conf = fs.readFileSync(file, 'utf8');
  const next = conf.replace(/(\[admin\]\n(?:#.*\n)*)(?:address = .*\n)+/, (m, head) => head + lines.map((l) => `address = ${l}\n`).join(''));
  if (!ok(next !== conf || !lines.length, 'the [admin] section lists addresses to replace', conf)) return;
  fs.writeFileSync(file, next);
}

async function restart(lines) {
  await h.stopNode();
  setAdmin(lines);
  return h.startNode();
}

const pay = (secret) => ({
  command: 'submit', secret,
  tx_json: { TransactionType: 'Payment', Account: h.GENESIS.address, Destination: 'jpLpucnjfX7ksggzc9Qw6hMSm1ATKJe3AF', Amount: '50000000', Fee: '10000' },
});

h.run(async () => {
  if (!h.init()) return;
  // -- default: loopback peers are admin
  let port = await h.startNode();
  let c = h.client(port);
  await c.ready;
  let r = await c.request({ command: 'ledger_accept' });
  ok(r.status === 'success' && r.result.ledger_current_index > 1, 'default: a loopback peer may ledger_accept', r);
  r = await c.request(pay(h.GENESIS.secret));
  eq(r.result && r.result.engine_result, 'tesSUCCESS', 'default: a loopback peer may submit with a secret');
  // Pipelined, each is signed in its turn: successive Sequences, all applied.
  const rs = await Promise.all(Array.from({ length: 20 }, () => c.request(pay(h.GENESIS.secret))));
  const seqs = rs.map((x) => x.result && x.result.tx_json.Sequence);
  ok(rs.every((x) => x.result && x.result.engine_result === 'tesSUCCESS') && new Set(seqs).size === 20,
    '20 pipelined submits with a secret get 20 successive Sequences', { seqs });
  await c.close();

  // -- only 127.0.0.2: a peer from 127.0.0.1 is not admin, one from 127.0.0.2 is
  port = await restart(['127.0.0.2']);
  c = h.client(port);
  await c.ready;
  r = await c.request({ command: 'ledger_accept' });
  eq(r.error, 'noPermission', 'address = 127.0.0.2: ledger_accept from 127.0.0.1 is refused');
  r = await c.request(pay(h.GENESIS.secret));
  eq(r.error, 'noPermission', 'address = 127.0.0.2: submit with a secret from 127.0.0.1 is refused');
  r = await c.request({ command: 'stop' });
  eq(r.error, 'noPermission', 'address = 127.0.0.2: stop from 127.0.0.1 is refused');
  r = await c.request({ command: 'ping' });
  eq(r.status, 'success', 'the refused peer is still served');
  const c2 = h.client(port, { localAddress: '127.0.0.2' });
  await c2.ready;
  r = await c2.request({ command: 'ledger_accept' });
  eq(r.status, 'success', 'address = 127.0.0.2: a peer from 127.0.0.2 may ledger_accept');
  await c2.close();
  await c.close();

  // -- a prefix: 127.0.0.0/30 covers 127.0.0.1
  port = await restart(['10.1.2.3', '127.0.0.0/30']);
  c = h.client(port);
  await c.ready;
  r = await c.request({ command: 'ledger_accept' });
  eq(r.status, 'success', 'address = 127.0.0.0/30 (second line): a peer from 127.0.0.1 is admin');
  await c.close();

  // -- none: nobody is admin by address (a reverse proxy on this host)
  port = await restart(['none']);
  c = h.client(port);
  await c.ready;
  r = await c.request({ command: 'ledger_accept' });
  eq(r.error, 'noPermission', 'address = none: ledger_accept from loopback is refused');
  r = await c.request({ command: 'stop' });
  eq(r.error, 'noPermission', 'address = none: stop from loopback is refused');
  await c.close();

  // -- a malformed address stops the node with a message naming it
  await h.stopNode();
  setAdmin(['127.0.0.300']);
  const bad = spawnSync(h.NODE, ['run', '--data', h.dir, '--ws', '127.0.0.1:0', '--jtp', ''], { encoding: 'utf8', timeout: 10000 });
  ok(bad.status !== 0 && /\[admin\] address/.test(bad.stderr) && /127\.0\.0\.300/.test(bad.stderr),
    'a malformed [admin] address is refused, named', { status: bad.status, stderr: bad.stderr });
  setAdmin(['127.0.0.0/8', '::1']);

  // -- stop: answered, then the node exits cleanly; its ledgers are kept
  port = await h.startNode();
  c = h.client(port);
  await c.ready;
  r = await c.request(pay(h.GENESIS.secret));
  eq(r.result && r.result.engine_result, 'tesSUCCESS', 'a payment before stop');
  r = await c.request({ command: 'ledger_accept' });
  const closed = r.result.ledger_current_index - 1;
  const node = h.node;
  h.node = null; // its exit is expected now
  const exited = new Promise((res) => node.on('exit', (code, sig) => res({ code, sig })));
  r = await c.request({ command: 'stop' });
  ok(r.status === 'success' && r.result.message === 'jt-node stopping', 'stop is answered before the node goes', r);
  const how = await exited;
  eq(how.code, 0, 'after stop the node exits with status 0');
  await c.closed;
  const v = spawnSync(h.NODE, ['verify', '--data', h.dir], { encoding: 'utf8' });
  ok(v.status === 0, 'jt-node verify passes after stop', v.stderr);
  port = await h.startNode();
  c = h.client(port);
  await c.ready;
  r = await c.request({ command: 'ledger_closed' });
  ok(r.result && r.result.ledger_index >= closed, 'the ledgers closed before stop are there after a restart', { r, closed });
  await c.close();
});
