#!/bin/sh
# jt-node's data directory (docs/node.md, "Files"): one process at a time
# (DIR/jt-node.lock), files that appear whole, private permissions. Real
# processes on real directories; needs only jt-node.
#
#   JT_BUILD   build whose bin/jt-node is tested (build/test)
set -u
NODE=${JT_BUILD:-build/test}/bin/jt-node
if [ ! -x "$NODE" ]; then echo "not ok datadir: $NODE is not built"; exit 1; fi

T=$(mktemp -d)
PIDS=""
cleanup() {
  for p in $PIDS; do kill -9 "$p" 2>/dev/null; done
  rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

fails=0
ok() { echo "ok $1"; }
notok() { # $1 = name, $2 = file to show (optional)
  echo "not ok $1"; fails=$((fails + 1))
  [ -n "${2:-}" ] && [ -f "$2" ] && sed 's/^/#   /' "$2" | tail -20
  return 0
}
check() { # $1 = name, $2 = log shown on failure, then the command
  name=$1; log=$2; shift 2
  if "$@"; then ok "$name"; else notok "$name" "$log"; fi
}
mode_of() { stat -c %a "$1"; }
# A run expected to be refused: one that starts anyway is stopped after 20 s
# (exit 124) instead of hanging the test.
run_fg() { timeout 20 "$NODE" run "$@"; }

# Starts `jt-node run` on $1 (log $2) closing every 50 ms and waits for its
# start line; its pid is in $PID. Fails if it exits or does not start within
# 60 s.
start_node() {
  "$NODE" run --data "$1" --ws 127.0.0.1:0 --jtp 127.0.0.1:0 --close-ms 50 >/dev/null 2>"$2" &
  PID=$!
  PIDS="$PIDS $PID"
  i=0
  while [ $i -lt 600 ]; do
    grep -q 'event=start' "$2" && return 0
    kill -0 "$PID" 2>/dev/null || return 1
    sleep 0.1; i=$((i + 1))
  done
  return 1
}
# SIGTERM and wait; $LAST is the ledger its stop line names (empty if none).
stop_node() { # $1 = pid, $2 = log
  kill "$1" 2>/dev/null
  wait "$1" 2>/dev/null
  LAST=$(sed -n 's/.*event=stop ledger=\([0-9]*\).*/\1/p' "$2" | tail -1)
}

# ---------------------------------------------------------------- init
D=$T/d
"$NODE" init --data "$D" >"$T/init.out" 2>&1
check "init creates the data directory 0700" "$T/init.out" test "$(mode_of "$D")" = 700
check "init writes node.key 0600" "$T/init.out" test "$(mode_of "$D/node.key")" = 600
check "init writes jt-node.conf 0600 and leaves no temporary file" "$T/init.out" \
  sh -c "test \"\$(stat -c %a '$D/jt-node.conf')\" = 600 && ! ls '$D' | grep -q '\\.tmp-'"

# ---------------------------------------------------------------- the lock
if start_node "$D" "$T/run1.log"; then
  P1=$PID
  ok "run starts"
  run_fg --data "$D" --ws 127.0.0.1:0 --jtp 127.0.0.1:0 --close-ms 50 >"$T/run2.log" 2>&1
  rc=$?
  check "a second run on the same directory is refused (exit 1), naming the first's pid" "$T/run2.log" \
    sh -c "[ $rc -eq 1 ] && grep -q 'data directory $D is in use by jt-node pid $P1 (run, since ' '$T/run2.log' && ! grep -q event=start '$T/run2.log'"
  "$NODE" init --data "$D" >"$T/init2.log" 2>&1
  rc=$?
  check "init on a directory in use is refused, naming the pid" "$T/init2.log" \
    sh -c "[ $rc -eq 1 ] && grep -q 'in use by jt-node pid $P1' '$T/init2.log'"
  "$NODE" verify --data "$D" >"$T/verify1.log" 2>&1
  rc=$?
  check "verify on a directory in use is refused, naming the pid" "$T/verify1.log" \
    sh -c "[ $rc -eq 1 ] && grep -q 'in use by jt-node pid $P1' '$T/verify1.log'"
  check "the first node is still running" "$T/run1.log" kill -0 "$P1"
  sleep 1
  stop_node "$P1" "$T/run1.log"; last=$LAST
  check "the first node kept closing ledgers (stopped at ledger ${last:-?})" "$T/run1.log" \
    test "${last:-0}" -ge 5
  "$NODE" verify --data "$D" >"$T/verify2.log" 2>&1
  check "verify passes after the refused attempts" "$T/verify2.log" grep -q '^ok ' "$T/verify2.log"
  check "a stopped node leaves its lock file, empty" "$T/verify2.log" sh -c "[ -f '$D/jt-node.lock' ] && [ ! -s '$D/jt-node.lock' ]"
else
  notok "run starts" "$T/run1.log"
fi

# After kill -9 the lock file still names the dead process: it must not matter.
if start_node "$D" "$T/run3.log"; then
  P1=$PID
  kill -9 "$P1"; wait "$P1" 2>/dev/null
  check "kill -9 leaves the dead node's pid in the lock file" "$T/run3.log" grep -q "pid $P1" "$D/jt-node.lock"
  if start_node "$D" "$T/run4.log"; then
    P2=$PID
    ok "run starts after the previous one was killed with -9"
    stop_node "$P2" "$T/run4.log"
    "$NODE" verify --data "$D" >"$T/verify3.log" 2>&1
    check "verify passes after kill -9 and a restart" "$T/verify3.log" grep -q '^ok ' "$T/verify3.log"
  else
    notok "run starts after the previous one was killed with -9" "$T/run4.log"
  fi
else
  notok "run starts (before kill -9)" "$T/run3.log"
fi

# ---------------------------------------------------------------- node.key
cp "$D/node.key" "$T/node.key.good"
head -c 40 "$T/node.key.good" >"$D/node.key"   # keeps mode 0600
run_fg --data "$D" --ws 127.0.0.1:0 --jtp 127.0.0.1:0 >"$T/trunc.log" 2>&1
rc=$?
check "a truncated node.key: run refuses, naming the file and what to do" "$T/trunc.log" \
  sh -c "[ $rc -eq 1 ] && grep -q '$D/node.key is malformed' '$T/trunc.log' && grep -q 'restore $D/node.key from a backup' '$T/trunc.log'"
cp "$T/node.key.good" "$D/node.key"
chmod 644 "$D/node.key"
run_fg --data "$D" --ws 127.0.0.1:0 --jtp 127.0.0.1:0 >"$T/loose.log" 2>&1
rc=$?
check "a node.key others may read: run refuses, saying chmod 600" "$T/loose.log" \
  sh -c "[ $rc -eq 1 ] && grep -q '$D/node.key is accessible by group or others (mode 644); run chmod 600 on it' '$T/loose.log'"
chmod 600 "$D/node.key"

# An init that stopped while writing the key (what an in-place write could
# leave): init explains, and works once the file is removed.
E=$T/e
mkdir -m 700 "$E"
head -c 30 "$T/node.key.good" >"$E/node.key"; chmod 600 "$E/node.key"
"$NODE" init --data "$E" >"$T/init3.log" 2>&1
rc=$?
check "init with a cut-short node.key refuses: remove it and run init again" "$T/init3.log" \
  sh -c "[ $rc -eq 1 ] && grep -q 'remove $E/node.key and run .jt-node init --data $E. again' '$T/init3.log'"
rm -f "$E/node.key"
"$NODE" init --data "$E" >"$T/init4.log" 2>&1
check "init works once the cut-short key is removed" "$T/init4.log" grep -q '^node public key: n' "$T/init4.log"

# ---------------------------------------------------------------- stray temporary files
F=$T/f
mkdir -m 700 "$F"
printf 'jtp-identity-1\nseed=00' >"$F/node.key.tmp-AbC123"
printf '[ws]\naddr' >"$F/jt-node.conf.tmp-XyZ789"
"$NODE" init --data "$F" >"$T/init5.log" 2>&1
check "init ignores and removes temporary files a crash left" "$T/init5.log" \
  sh -c "grep -q '^node public key: n' '$T/init5.log' && [ ! -e '$F/node.key.tmp-AbC123' ] && [ ! -e '$F/jt-node.conf.tmp-XyZ789' ]"
printf 'junk' >"$F/node.key.tmp-QqQqQq"
if start_node "$F" "$T/run5.log"; then
  P=$PID
  check "run removes a stray temporary key file" "$T/run5.log" test ! -e "$F/node.key.tmp-QqQqQq"
  stop_node "$P" "$T/run5.log"
else
  notok "run starts beside a stray temporary key file" "$T/run5.log"
fi

# ---------------------------------------------------------------- permissions
chmod 777 "$F"; chmod 755 "$F/ledger"
if start_node "$F" "$T/run6.log"; then
  P=$PID
  check "run tightens a world-writable data directory (and ledger/) to 0700, and says so" "$T/run6.log" \
    sh -c "[ \"\$(stat -c %a '$F')\" = 700 ] && [ \"\$(stat -c %a '$F/ledger')\" = 700 ] && grep -q '$F was open to group or others (mode 0777); its mode is now 0700' '$T/run6.log'"
  stop_node "$P" "$T/run6.log"
else
  notok "run starts on a world-writable data directory it owns" "$T/run6.log"
fi
G=$T/g
mkdir "$G"; chmod 777 "$G"
"$NODE" init --data "$G" >"$T/init6.log" 2>&1
check "init tightens an existing world-writable directory to 0700" "$T/init6.log" \
  sh -c "[ \"\$(stat -c %a '$G')\" = 700 ] && grep -q '^node public key: n' '$T/init6.log'"

nobody=$(id -u nobody 2>/dev/null || true)
if [ "$(id -u)" = 0 ] && [ -n "$nobody" ]; then
  chown nobody "$G"; chmod 777 "$G"
  run_fg --data "$G" --ws 127.0.0.1:0 --jtp 127.0.0.1:0 >"$T/run7.log" 2>&1
  rc=$?
  check "run refuses a world-writable directory another user owns" "$T/run7.log" \
    sh -c "[ $rc -eq 1 ] && grep -q '$G may be written by group or others (mode 0777) and belongs to uid $nobody' '$T/run7.log' && [ \"\$(stat -c %a '$G')\" = 777 ]"
else
  echo "# SKIP a directory another user owns (needs root to make one)"
fi

run_fg --data "$T/missing" >"$T/run8.log" 2>&1
rc=$?
check "run on a missing directory says to init and creates nothing" "$T/run8.log" \
  sh -c "[ $rc -eq 1 ] && grep -q 'not initialized' '$T/run8.log' && [ ! -e '$T/missing' ]"

[ "$fails" -eq 0 ]
