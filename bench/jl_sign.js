// jl_sign.js — the payment signing work of bench_sign, done by jingtum-lib 2.4.15 on node.
//
//   node bench/jl_sign.js [--seconds N] [--warmup W]
//
// Builds the same payment as bench_sign's libjt subject (jan4LB… pays jnQJ6M… 1 SWT, Fee 10000,
// a different Sequence every time) with jingtum-lib's Remote in local_sign mode — never
// connected — then buildPaymentTx, setSecret, setSequence, sign(cb): the calls an application
// makes (see shared/vectors/gen_txs.js). Note that jingtum-lib derives the key pair from the
// secret inside every sign(), and serializes twice (signing hash, then blob).
//
// Prints one JSON line on stdout. jingtum-lib writes noise lines to stdout ("Get tx type…"),
// so a caller should take only the line starting with '{'.
'use strict';
const path = require('path');
const jlib = require(path.join(__dirname, 'node_modules', 'jingtum-lib'));

const SECRET = 'ssYbHr1cQKt1orBJ9k6uJJowgRQVV';
const ACCOUNT = 'jan4LBF2HGSBqDn6y9YoUxJZr7Jjuv3fZ2';
const DEST = 'jnQJ6M9wMtNDSWyk1wqAYa2CXdmDZ5h5Xb';
// payment_native_1swt in shared/vectors/transactions.json: what Sequence 1 must produce.
const VECTOR_SEQ1 =
  '120000220000000024000000016140000000000F4240684000000000002710732102F9D5E96648F13F30480991' +
  'B128BDFA39BB6DBF9D85368E36D01A9DC43A514DB774463044022057DD06C831899DE4DC817CFE29D77360B76A' +
  '870646E802E88998708BB008201E02204FED24D667122DF8CE7E04F12B41A6B93134A43A9AD2F8CCCCE735B80F' +
  '3200E8811437AC194C7DE25083DDAAEA0A77FEA905EAAE071683143048D7827863657B7641FFDCAB48C5FAB2A6' +
  '92B9';

function arg(name, dflt) {
  const i = process.argv.indexOf(name);
  if (i < 0) return dflt;
  const v = Number(process.argv[i + 1]);
  if (!(v >= 0 && v <= 3600)) {
    process.stderr.write(`jl_sign.js: bad ${name}\n`);
    process.exit(2);
  }
  return v;
}
const seconds = arg('--seconds', 3);
const warmup = arg('--warmup', 0.5);

const remote = new jlib.Remote({ server: 'ws://127.0.0.1:5020', local_sign: true }); // never connected

function signOnce(seq) {
  const tx = remote.buildPaymentTx({
    account: ACCOUNT, to: DEST, amount: { value: '1', currency: 'SWT', issuer: '' },
  });
  tx.setSecret(SECRET);
  tx.setSequence(seq);
  let blob, err;
  tx.sign((e, b) => { err = e; blob = b; }); // synchronous when the Sequence is set
  if (err) throw err;
  if (typeof blob !== 'string' || blob.length < 200) throw new Error('sign() gave no blob');
  return blob;
}

// Not a no-op: Sequence 1 must give the published bytes (which libjt reproduces too).
if (signOnce(1) !== VECTOR_SEQ1) {
  process.stderr.write('jl_sign.js: jingtum-lib blob differs from the published vector\n');
  process.exit(1);
}

let seq = 2;
function run(secs) {
  let n = 0, last = '';
  const t0 = process.hrtime.bigint();
  let dt = 0;
  do {
    for (let k = 0; k < 4; k++) last = signOnce(seq++);
    n += 4;
    dt = Number(process.hrtime.bigint() - t0) / 1e9;
  } while (dt < secs);
  return { n, dt, last };
}

run(warmup); // let the JIT settle
const r = run(seconds);
// The last blob carries its Sequence (field 24) and a fresh signature.
const seqHex = (seq - 1).toString(16).toUpperCase().padStart(8, '0');
if (!r.last.startsWith('1200002200000000' + '24' + seqHex)) {
  process.stderr.write('jl_sign.js: last blob is not the expected payment\n');
  process.exit(1);
}
process.stdout.write(JSON.stringify({
  bench: 'jl_sign', library: 'jingtum-lib', version: require(path.join(__dirname, 'node_modules',
    'jingtum-lib', 'package.json')).version, node: process.version,
  signatures: r.n, seconds: Number(r.dt.toFixed(3)), per_s: Number((r.n / r.dt).toFixed(1)),
}) + '\n');
