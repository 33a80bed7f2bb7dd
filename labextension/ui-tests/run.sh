#!/usr/bin/env bash
# UI test of the colearn sidebar against a live JupyterLab:
#   1. a private COLEARN_HOME (its own devnet on a free port, its own store),
#   2. setup_marketplace.py publishes an iris model, bob's batch with mislabelled rows and a demand of dave's,
#      and a stranger's model with XSS payloads in every field (and xss.ipynb, which shows it in a notebook),
#   3. `jupyter lab` with a random token on a free port, root dir a temporary directory,
#   4. the Playwright test (Debian's chromium, never a downloaded browser),
#   5. everything stopped and removed, on success and on failure.
# Environment: PYTHON / JUPYTER (default ../.venv/bin/...), CHROMIUM (default /usr/bin/chromium),
# COLEARN_UI_SMOKE=1 to run only the "sidebar opens and lists models" test, KEEP=1 to keep the temp dir.
# Extra arguments go to `playwright test`.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
ext="$(dirname "$here")"
repo="$(dirname "$ext")"
PYTHON="${PYTHON:-$repo/.venv/bin/python}"
JUPYTER="${JUPYTER:-$repo/.venv/bin/jupyter}"
export CHROMIUM="${CHROMIUM:-/usr/bin/chromium}"

[ -x "$CHROMIUM" ] || { echo "run.sh: no chromium at $CHROMIUM (apt-get install -y chromium)" >&2; exit 2; }
[ -x "$JUPYTER" ] || { echo "run.sh: no jupyter at $JUPYTER" >&2; exit 2; }
[ -f "$repo/colearn_jupyter/labextension/package.json" ] || {
  echo "run.sh: the extension is not built (npm run build:prod)" >&2; exit 2; }

work="$(mktemp -d "${TMPDIR:-/tmp}/colearn-ui-XXXXXX")"
export COLEARN_HOME="$work/home"
export COLEARN_DEVNET_PORT=0
unset COLEARN_RPC_URL COLEARN_MARKETPLACE COLEARN_IPFS_URL || true
root="$work/root"
mkdir -p "$COLEARN_HOME" "$root"
lab_pid=""

cleanup() {
  local status=$?
  if [ -n "$lab_pid" ] && kill -0 "$lab_pid" 2>/dev/null; then
    kill -TERM "$lab_pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$lab_pid" 2>/dev/null || break; sleep 0.2; done
    kill -KILL "$lab_pid" 2>/dev/null || true
  fi
  # stop this run's devnet (anvil) and forget its chain
  "$PYTHON" -c 'import os; from colearn_jupyter import Devnet; Devnet(os.environ["COLEARN_HOME"]).reset()' \
    >/dev/null 2>&1 || true
  if [ "$status" -ne 0 ] && [ -f "$work/lab.log" ]; then
    echo "---- jupyter lab log (last 40 lines) ----" >&2
    tail -n 40 "$work/lab.log" >&2 || true
  fi
  if [ "${KEEP:-0}" = "1" ]; then echo "run.sh: kept $work" >&2; else rm -rf "$work"; fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "run.sh: publishing a model and a contribution (COLEARN_HOME=$COLEARN_HOME)"
setup_json="$("$PYTHON" "$here/setup_marketplace.py" --root-dir "$root" | tail -n 1)"
echo "run.sh: $setup_json"
field() { "$PYTHON" -c 'import json, sys; v = json.loads(sys.argv[1])[sys.argv[2]]; print(",".join(map(str, v)) if isinstance(v, list) else v)' "$setup_json" "$1"; }
export COLEARN_UI_MODEL_ID="$(field model_id)"
export COLEARN_UI_MODEL_NAME="$(field model_name)"
export COLEARN_UI_SUBMISSION_ID="$(field submission_id)"
export COLEARN_UI_FLIPPED="$(field flipped_rows)"
export COLEARN_UI_DEMAND_ID="$(field demand_id)"
export COLEARN_UI_XSS_MODEL_ID="$(field xss_model_id)"
export COLEARN_UI_XSS_SUBMISSION_ID="$(field xss_submission_id)"
export COLEARN_UI_XSS_CHALLENGE_ID="$(field xss_challenge_id)"
export COLEARN_UI_XSS_NOTEBOOK="$(field xss_notebook)"
export COLEARN_UI_XSS_NAME="$(field xss_name)"

port="$("$PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')"
token="$("$PYTHON" -c 'import secrets; print(secrets.token_hex(24))')"
export COLEARN_UI_URL="http://127.0.0.1:$port/"
export COLEARN_UI_TOKEN="$token"

echo "run.sh: starting jupyter lab on port $port"
JUPYTER_CONFIG_DIR="$work/jupyter-config" JUPYTER_RUNTIME_DIR="$work/runtime" \
  "$JUPYTER" lab --no-browser --ServerApp.ip=127.0.0.1 --port "$port" --ServerApp.port_retries=0 \
  --IdentityProvider.token="$token" --allow-root --ServerApp.root_dir="$root" \
  --LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate --LabApp.expose_app_in_browser=True \
  >"$work/lab.log" 2>&1 &
lab_pid=$!

for i in $(seq 1 120); do
  if curl -fsS -H "Authorization: token $token" "${COLEARN_UI_URL}api/status" >/dev/null 2>&1; then break; fi
  kill -0 "$lab_pid" 2>/dev/null || { echo "run.sh: jupyter lab exited" >&2; exit 1; }
  [ "$i" -eq 120 ] && { echo "run.sh: jupyter lab did not answer in 60 s" >&2; exit 1; }
  sleep 0.5
done
echo "run.sh: jupyter lab is up; colearn status: $(curl -sS -H "Authorization: token $token" "${COLEARN_UI_URL}colearn/api/status" || true)"

cd "$ext"
node_modules/.bin/playwright test -c ui-tests/playwright.config.ts "$@"
