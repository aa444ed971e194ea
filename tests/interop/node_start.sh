# node_start.sh — sourced by the interop scripts that drive a fresh jt-node: checks for node/npm
# (skipping with a message naming $what when missing), installs the npm oracles when
# package-lock.json changed, starts jt-node on free loopback ports ($ws_port, $jtp_port, $url),
# and stops it on exit. Files are named after $tag. run_scenario runs one scenario script.
set -u
here=$(cd "$(dirname "$0")" && pwd)
build=${JT_BUILD:-build/test}
case $build in /*) ;; *) build=$(pwd)/$build ;; esac
node_bin=$build/bin/jt-node
logs=$build/test-logs
fails=0
ok()     { echo "ok $1"; }
not_ok() { echo "not ok $1"; fails=$((fails + 1)); }

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  echo "# SKIP node/npm not found: jt-node $what not run"
  exit 0
fi
if [ ! -x "$node_bin" ]; then
  echo "not ok jt-node missing: $node_bin (make BUILD=$build $node_bin)"
  exit 1
fi
mkdir -p "$logs"

# npm ci into tests/interop/node_modules, only when package-lock.json changed since the last
# install (same stamp as test_diff.sh).
stamp=$here/node_modules/.jtkit-lock-stamp
if [ ! -f "$stamp" ] || ! cmp -s "$here/package-lock.json" "$stamp"; then
  echo "# npm ci (tests/interop)"
  if ! (cd "$here" && npm ci --no-audit --no-fund --loglevel=error >"$build/interop-npm-ci.log" 2>&1); then
    echo "not ok npm ci failed (log: $build/interop-npm-ci.log)"
    tail -20 "$build/interop-npm-ci.log" | sed 's/^/#   /'
    exit 1
  fi
  cp "$here/package-lock.json" "$stamp"
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/jt-$tag.XXXXXX")
data=$tmp/data; mkdir -p "$data"
nodelog=$logs/$tag-jt-node.log
pid=
spid=
cleanup() {
  if [ -n "$spid" ]; then kill "$spid" 2>/dev/null; wait "$spid" 2>/dev/null; spid=; fi
  if [ -n "$pid" ]; then
    kill "$pid" 2>/dev/null
    # give it 5 s to close its ledger store cleanly, then insist
    i=0
    while kill -0 "$pid" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
    kill -9 "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    pid=
  fi
  if [ "${JT_NODE_INTEROP_KEEP:-0}" = 1 ]; then echo "# kept $tmp"; else rm -rf "$tmp"; fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

with_timeout() { # seconds command… — bounded when timeout(1) exists
  s=$1; shift
  if command -v timeout >/dev/null 2>&1; then timeout -k 5 "$s" "$@"; else "$@"; fi
}

# free loopback TCP ports: the kernel picks them (bind to port 0), all held at once so they differ
free_ports() { # count
  node -e '
    const net = require("net"); const n = Number(process.argv[1]); const ss = []; const ports = [];
    const next = () => {
      if (ss.length === n) { ss.forEach((s) => s.close()); console.log(ports.join(" ")); return; }
      const s = net.createServer(); s.unref(); ss.push(s);
      s.on("error", (e) => { console.error(String(e)); process.exit(1); });
      s.listen(0, "127.0.0.1", () => { ports.push(s.address().port); next(); });
    };
    next();' "$1"
}

# wait until 127.0.0.1:PORT accepts a TCP connection (up to 15 s), or the node exits
wait_port() { # port pid
  node -e '
    const net = require("net"); const port = Number(process.argv[1]); const pid = Number(process.argv[2]);
    const limit = Date.now() + 15000;
    const alive = () => { try { process.kill(pid, 0); return true; } catch (e) { return false; } };
    const tryit = () => {
      const s = net.connect(port, "127.0.0.1");
      s.on("connect", () => { s.destroy(); process.exit(0); });
      s.on("error", () => {
        s.destroy();
        if (!alive()) { console.error("jt-node exited"); process.exit(2); }
        if (Date.now() > limit) { console.error("timed out"); process.exit(1); }
        setTimeout(tryit, 100);
      });
    };
    tryit();' "$1" "$2"
}

# ---------------------------------------------------------------- init
if with_timeout 30 "$node_bin" init --data "$data" >"$tmp/init.out" 2>"$tmp/init.err"; then
  key=$(tr -d ' \t\r\n' <"$tmp/init.out")
  if [ -n "$key" ]; then ok "jt-node init --data DIR prints the node key"
  else not_ok "jt-node init printed nothing (expected the node public key)"; fi
else
  not_ok "jt-node init --data DIR failed (exit $?)"
  sed 's/^/#   /' "$tmp/init.err" | tail -20
  exit 1
fi

# ---------------------------------------------------------------- run
# Ports picked by the kernel may be taken again before jt-node binds them: retry with new ones.
started=0
for attempt in 1 2 3; do
  ports=$(free_ports 2) || break
  ws_port=${ports% *}; jtp_port=${ports#* }
  "$node_bin" run --data "$data" --ws "127.0.0.1:$ws_port" --jtp "127.0.0.1:$jtp_port" \
    --close-ms 1000 >"$nodelog" 2>&1 &
  pid=$!
  if wait_port "$ws_port" "$pid" 2>"$tmp/wait.err"; then started=1; break; fi
  echo "# attempt $attempt: jt-node not accepting on 127.0.0.1:$ws_port ($(cat "$tmp/wait.err"))"
  kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; pid=
done
if [ $started = 1 ]; then
  ok "jt-node run --ws 127.0.0.1:$ws_port --jtp 127.0.0.1:$jtp_port --close-ms 1000 accepts connections"
else
  not_ok "jt-node run did not start accepting WebSocket connections (log: $nodelog)"
  tail -20 "$nodelog" | sed 's/^/#   /'
  exit 1
fi

url=ws://127.0.0.1:$ws_port

# run_scenario NAME SECONDS SCRIPT ARGS...: runs SCRIPT under node with a time limit, keeps its
# TAP lines and comments (the libraries' own noise goes to its frame trace), counts its failures
# into $fails, and says so when jt-node died meanwhile (then $pid is cleared; returns 1).
run_scenario() {
  name=$1 secs=$2; shift 2
  trace=$logs/$tag-$name.trace
  # in the background and waited for, so that a signal to this script interrupts it at once
  (
    cd "$here" || exit 1
    export JT_SCENARIO_TRACE="$trace"
    if command -v timeout >/dev/null 2>&1; then exec timeout -k 5 "$secs" node "$@"
    else exec node "$@"; fi
  ) >"$tmp/$name.out" 2>"$tmp/$name.err" &
  spid=$!
  wait "$spid"; rc=$?; spid=
  grep -E '^(ok|not ok|#)' "$tmp/$name.out"
  p=$(grep -c '^ok ' "$tmp/$name.out"); f=$(grep -c '^not ok ' "$tmp/$name.out")
  fails=$((fails + f))
  if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
    not_ok "$name scenario exited with status $rc after $p steps"
    tail -15 "$tmp/$name.err" | sed 's/^/#   /'
  fi
  if [ "$f" -ne 0 ]; then echo "#   frames: $trace"; fi
  if ! kill -0 "$pid" 2>/dev/null; then
    not_ok "jt-node died during the $name scenario (log: $nodelog)"
    tail -20 "$nodelog" | sed 's/^/#   /'
    pid=
    return 1
  fi
  return 0
}
