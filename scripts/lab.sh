#!/usr/bin/env bash
# `make lab`: JupyterLab from the checkout's venv, on the example notebooks.
#   PORT=8890     listen on this port (and fail, rather than take another, when it is taken)
#   NO_BROWSER=1  open no browser (for a remote machine or a container)
#   as root       --allow-root is added (JupyterLab refuses root otherwise)
# If JupyterLab exits with an error, the devnet it started (the server extension starts it when the server starts)
# is stopped again, so a failed start leaves nothing running; a devnet that was running before is left alone.
# Extra arguments go to `jupyter lab`.
set -uo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-.venv/bin}

args=(--notebook-dir=example_notebooks)
if [ -n "${PORT:-}" ]; then
  args+=("--port=$PORT" --ServerApp.port_retries=0)
fi
case "${NO_BROWSER:-}" in
  "" | 0 | no | false) ;;
  *) args+=(--no-browser) ;;
esac
if [ "$(id -u)" = 0 ]; then
  args+=(--allow-root)
fi

devnet_running() {
  "$BIN/colearn" devnet status --json 2>/dev/null | grep -q '"running": true'
}

started_here=1
if devnet_running; then
  started_here=0
fi

# Ctrl-C and kill reach JupyterLab (a trap with a command is reset in children), and this script lives on to
# clean up after it.
trap 'echo "make lab: interrupted" >&2' INT TERM HUP
"$BIN/jupyter" lab "${args[@]}" "$@"
status=$?
trap - INT TERM HUP

if [ "$status" -ne 0 ] && [ "$started_here" = 1 ] && devnet_running; then
  echo "make lab: JupyterLab exited with status $status; stopping the devnet it started" >&2
  "$BIN/colearn" devnet stop >&2
fi
exit "$status"
