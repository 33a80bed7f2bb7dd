#!/usr/bin/env bash
# Start an offline js-ipfs (npm ipfs@0.66.1) daemon serving the kubo-style HTTP RPC API
# on 127.0.0.1:<port>, in the background, and wait until POST /api/v0/version answers.
#
# usage: start.sh <repo-dir> <api-port>
#   stdout: exactly one line, the API base URL (http://127.0.0.1:<port>)
#   stderr: progress / diagnostics
#   files:  <repo-dir>/daemon.pid (daemon pid), <repo-dir>/daemon.log (daemon output)
# env:
#   IPFS_NODE_MODULES   node_modules dir containing ipfs@0.66.1 (default: the repository's node_modules)
#   IPFS_START_TIMEOUT  seconds to wait for the API (default 60)
#   NODE                node binary (default: node on PATH)
# Stop it with: stop.sh <repo-dir>   (or kill "$(cat <repo-dir>/daemon.pid)")
set -euo pipefail

if [ $# -ne 2 ]; then
  echo "usage: $0 <repo-dir> <api-port>" >&2
  exit 2
fi
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
NODE="${NODE:-node}"
NM="${IPFS_NODE_MODULES:-$HERE/../../node_modules}"
TIMEOUT="${IPFS_START_TIMEOUT:-60}"
PORT="$2"
case "$PORT" in ''|*[!0-9]*) echo "start.sh: bad port '$PORT'" >&2; exit 2;; esac

CLI="$NM/ipfs/src/cli.js"
if [ ! -f "$CLI" ]; then
  echo "start.sh: $CLI not found; install ipfs@0.66.1 (npm install ipfs@0.66.1) or set IPFS_NODE_MODULES" >&2
  exit 1
fi
mkdir -p "$1"
REPO="$(cd "$1" && pwd)"
URL="http://127.0.0.1:${PORT}"
LOG="$REPO/daemon.log"
PIDFILE="$REPO/daemon.pid"


api_up() {
  if command -v curl >/dev/null 2>&1; then
    curl -sf -m 2 -X POST "$URL/api/v0/version" >/dev/null 2>&1
  else
    "$NODE" -e 'fetch(process.argv[1],{method:"POST",signal:AbortSignal.timeout(2000)}).then(r=>process.exit(r.ok?0:1),()=>process.exit(1))' "$URL/api/v0/version"
  fi
}
port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; }

# Is <pid> a live (non-zombie) js-ipfs daemon process?
daemon_alive() {
  local pid="$1"
  [ -n "$pid" ] && [ -r "/proc/$pid/stat" ] || return 1
  local state; state="$(sed -e 's/^.*) //' "/proc/$pid/stat" | cut -d' ' -f1)"
  [ "$state" != Z ] && [ "$state" != X ] || return 1
  tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null | grep -Eq '^ipfs( |$)|cli\.js daemon'  # js-ipfs sets its process title to 'ipfs'
}

# An already running daemon for this repo?
if [ -f "$PIDFILE" ]; then
  OLDPID="$(cat "$PIDFILE" 2>/dev/null || true)"
  if daemon_alive "$OLDPID"; then
    if api_up; then
      echo "start.sh: daemon already running for $REPO (pid $OLDPID)" >&2
      echo "$URL"
      exit 0
    fi
    echo "start.sh: a daemon (pid $OLDPID) is running on $REPO but not answering on $URL; stop it first" >&2
    exit 1
  fi
  rm -f "$PIDFILE"
fi
if port_busy; then
  echo "start.sh: port $PORT is already in use" >&2
  exit 1
fi

POLYFILL_URL="$("$NODE" -e 'console.log(require("url").pathToFileURL(process.argv[1]).href)' "$HERE/polyfill.mjs")"
export NODE_OPTIONS="--import=$POLYFILL_URL${NODE_OPTIONS:+ $NODE_OPTIONS}"
export IPFS_PATH="$REPO"

# Config overlay: API on loopback:<port>, no swarm listeners, no gateway, no gRPC, no peers.
OVERLAY="$(mktemp)"
trap 'rm -f "$OVERLAY"' EXIT
cat > "$OVERLAY" <<JSON
{"Addresses":{"Swarm":[],"Announce":[],"NoAnnounce":[],"API":"/ip4/127.0.0.1/tcp/${PORT}","Gateway":"","RPC":"","Delegates":[]},
 "Bootstrap":[],
 "Discovery":{"MDNS":{"Enabled":false},"webRTCStar":{"Enabled":false}},
 "Swarm":{"DisableNatPortMap":true}}
JSON

if [ ! -f "$REPO/config" ]; then
  echo "start.sh: initialising repo $REPO" >&2
  "$NODE" "$CLI" init --emptyRepo --defaultConfig "$OVERLAY" >>"$LOG" 2>&1 || {
    echo "start.sh: jsipfs init failed:" >&2; tail -n 30 "$LOG" >&2; exit 1; }
else
  # Existing repo: re-apply the overlay (e.g. a different port this time).
  "$NODE" -e '
    const fs = require("fs"); const [cfgPath, ovPath] = process.argv.slice(1);
    const cfg = JSON.parse(fs.readFileSync(cfgPath, "utf8")); const ov = JSON.parse(fs.readFileSync(ovPath, "utf8"));
    const merge = (a, b) => { for (const k of Object.keys(b)) {
      if (b[k] && typeof b[k] === "object" && !Array.isArray(b[k])) { a[k] = (a[k] && typeof a[k] === "object") ? a[k] : {}; merge(a[k], b[k]) }
      else a[k] = b[k] } return a };
    fs.writeFileSync(cfgPath, JSON.stringify(merge(cfg, ov), null, 2));
  ' "$REPO/config" "$OVERLAY"
fi

# No live daemon owns this repo (checked above): drop a stale lock and api file.
rm -rf "$REPO/repo.lock" "$REPO/api"

echo "start.sh: starting daemon on $URL (log: $LOG)" >&2
START_NS=$(date +%s%N)
# setsid: own session, so the daemon outlives this script and its terminal.
setsid "$NODE" "$CLI" daemon --offline --enable-preload=false >>"$LOG" 2>&1 < /dev/null &
DPID=$!
echo "$DPID" > "$PIDFILE"

DEADLINE=$(( $(date +%s) + TIMEOUT ))
until api_up; do
  if ! daemon_alive "$DPID"; then
    echo "start.sh: daemon exited during startup; last log lines:" >&2
    tail -n 30 "$LOG" >&2
    rm -f "$PIDFILE"
    exit 1
  fi
  if [ "$(date +%s)" -ge "$DEADLINE" ]; then
    echo "start.sh: API did not answer within ${TIMEOUT}s; killing pid $DPID; last log lines:" >&2
    tail -n 30 "$LOG" >&2
    kill "$DPID" 2>/dev/null || true
    rm -f "$PIDFILE"
    exit 1
  fi
  sleep 0.2
done
echo "start.sh: ready after $(( ($(date +%s%N) - START_NS) / 1000000 )) ms (pid $DPID)" >&2
echo "$URL"
