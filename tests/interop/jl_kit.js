// jl_kit.js — what the jingtum-lib scenario scripts share: "ok"/"not ok"
// lines, a connected Remote (local signing), requests as promises with a
// time limit, and a transaction signed, submitted and closed in a ledger.
//
//   const kit = require('./jl_kit')('pathfind', { ms: 15000 });
//   const { check, call, submit, G, wallet } = kit;
//   kit.run(async (remote) => { ... });
'use strict';

module.exports = function jlKit(name, opts) {
  const o = Object.assign({ ms: 8000, detail: 800 }, opts);
  const URL = process.argv[2];
  if (!URL) { process.stderr.write(`usage: node ${name}_scenario.js ws://HOST:PORT\n`); process.exit(2); }
  const out = (s) => process.stdout.write(s + '\n');
  console.log = () => {}; // jingtum-lib's serialization chatter
  const jl = require('jingtum-lib');
  const kit = { jl, out, failed: 0, remote: null };

  kit.G = { address: 'jHb9CJAWyB4jr91VRWn96DkukG4bwdtyTh', secret: 'snoPBjXtMeMyMHUVTgbuqAfg1SUTb' };
  kit.wallet = () => jl.Wallet.generate();
  kit.check = (what, cond, detail) => {
    if (cond) out(`ok jingtum-lib ${name} ${what}`);
    else {
      kit.failed++;
      out(`not ok jingtum-lib ${name} ${what}` + (detail !== undefined ? ': ' + JSON.stringify(detail).slice(0, o.detail) : ''));
    }
  };
  kit.call = (req, label, ms) => new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(label + ': no answer')), ms || o.ms);
    req.submit((err, res) => { clearTimeout(t); if (err) reject(new Error(label + ': ' + JSON.stringify(err))); else resolve(res); });
  });
  // Signs tx with w's secret at w's next Sequence, submits it and closes the ledger.
  kit.submit = async (tx, w, label) => {
    const info = await kit.call(kit.remote.requestAccountInfo({ account: w.address }), 'account_info ' + label);
    tx.setSecret(w.secret);
    tx.setSequence(info.account_data.Sequence);
    const r = await kit.call(tx, 'submit ' + label);
    await kit.call(new jl.Request(kit.remote, 'ledger_accept'), 'ledger_accept');
    return r;
  };
  // Connects, runs main(remote), and exits 1 on a failed check or an exception.
  kit.run = (main) => {
    kit.remote = new jl.Remote({ server: URL, local_sign: true });
    new Promise((resolve, reject) => kit.remote.connect((e) => (e ? reject(e) : resolve())))
      .then(() => main(kit.remote))
      .then(() => process.exit(kit.failed ? 1 : 0),
        (e) => { out(`not ok jingtum-lib ${name} scenario crashed: ` + (e && e.stack || e)); process.exit(1); });
  };
  return kit;
};
