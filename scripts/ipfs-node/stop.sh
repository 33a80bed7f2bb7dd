#!/usr/bin/env bash
# Stop the daemon started by start.sh for <repo-dir> (SIGTERM, then SIGKILL after 10 s).
set -euo pipefail
[ $# -eq 1 ] || { echo "usage: $0 <repo-dir>" >&2; exit 2; }
PIDFILE="$1/daemon.pid"
[ -f "$PIDFILE" ] || { echo "stop.sh: no $PIDFILE" >&2; exit 0; }
PID="$(cat "$PIDFILE")"
if kill -0 "$PID" 2>/dev/null; then
  kill -TERM "$PID" 2>/dev/null || true
  for _ in $(seq 1 50); do kill -0 "$PID" 2>/dev/null || break; sleep 0.2; done
  if kill -0 "$PID" 2>/dev/null; then kill -KILL "$PID" 2>/dev/null || true; fi
fi
rm -f "$PIDFILE"
