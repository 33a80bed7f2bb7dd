#!/usr/bin/env bash
# The UI tests' second profile: the sidebar on a chain that is not the devnet, acting as a keystore account.
#   1. a hardhat node (node_modules/.bin/hardhat, tests/hardhat/hardhat.config.js) with chain id 1337 on a free
#      loopback port, and a private COLEARN_HOME,
#   2. setup_hardhat.py: keystores ada, bea and cy in <home>/keystores (password COLEARN_KEYSTORE_PASSWORD),
#      `colearn deploy --account <ada's keystore>`, an iris model published as ada, hardhat_rows.csv under the root,
#   3. two `jupyter lab` servers on free ports: one configured with c.ColearnSettings.account = "ada", one with no
#      account (read-only),
#   4. the Playwright project "hardhat" (hardhat.spec.ts), which moves the node's clock from the sidebar,
#   5. everything stopped and removed, on success and on failure.
# Run by run.sh (COLEARN_UI_PROFILE=all or hardhat); the same environment (PYTHON, JUPYTER, CHROMIUM, KEEP=1) and
# extra arguments for `playwright test`.
set -euo pipefail

# shellcheck source=lib.sh
. "$(cd "$(dirname "$0")" && pwd)/lib.sh"
HARDHAT="$repo/node_modules/.bin/hardhat"

require_tools run-hardhat.sh
[ -x "$HARDHAT" ] || { echo "run-hardhat.sh: no hardhat at $HARDHAT (make install)" >&2; exit 2; }

mkdir -p "$here/screenshots"
rm -f "$here"/screenshots/hardhat-*.png "$here"/screenshots/read-only*.png

new_work colearn-ui-hardhat
export COLEARN_KEYSTORE_PASSWORD="ui-test-$(new_token)"
unset COLEARN_MARKETPLACE COLEARN_IPFS_URL COLEARN_ACCOUNT COLEARN_DEVNET_PORT || true
hardhat_pid=""
lab_pid=""
readonly_pid=""

cleanup() {
  local status=$?
  stop_pid "$lab_pid"
  stop_pid "$readonly_pid"
  stop_pid "$hardhat_pid" 1
  if [ "$status" -ne 0 ]; then
    show_log "$work/hardhat.log"
    show_log "$work/lab.log"
    show_log "$work/readonly.log"
  fi
  if [ "${KEEP:-0}" = "1" ]; then echo "run-hardhat.sh: kept $work" >&2; else rm -rf "$work"; fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

hardhat_port="$(free_port)"
export COLEARN_RPC_URL="http://127.0.0.1:$hardhat_port"
echo "run-hardhat.sh: starting hardhat (chain 1337) on port $hardhat_port"
# its own session (process group), so that stopping it stops whatever it started
(cd "$repo" && HARDHAT_CHAIN_ID=1337 exec setsid "$HARDHAT" --config tests/hardhat/hardhat.config.js node \
  --hostname 127.0.0.1 --port "$hardhat_port") >"$work/hardhat.log" 2>&1 &
hardhat_pid=$!
for i in $(seq 1 180); do
  if curl -fsS -H 'Content-Type: application/json' -d '{"jsonrpc":"2.0","id":1,"method":"eth_chainId","params":[]}' \
    "$COLEARN_RPC_URL" >/dev/null 2>&1; then break; fi
  kill -0 "$hardhat_pid" 2>/dev/null || { echo "run-hardhat.sh: hardhat exited" >&2; exit 1; }
  [ "$i" -eq 180 ] && { echo "run-hardhat.sh: hardhat did not answer in 90 s" >&2; exit 1; }
  sleep 0.5
done

echo "run-hardhat.sh: keystores, deployment and a model (COLEARN_HOME=$COLEARN_HOME)"
setup_json="$("$PYTHON" "$here/setup_hardhat.py" setup --root-dir "$root" | tail -n 1)"
echo "run-hardhat.sh: $setup_json"
export COLEARN_UI_HARDHAT_MODEL_ID="$(field model_id)"
export COLEARN_UI_HARDHAT_MODEL_NAME="$(field model_name)"
export COLEARN_UI_HARDHAT_CSV="$(field csv)"
export COLEARN_UI_HARDHAT_FLIPPED="$(field flipped_row)"
export COLEARN_UI_HARDHAT_ROWS="$(field rows)"

port="$(free_port)"
readonly_port="$(free_port)"
token="$(new_token)"
export COLEARN_UI_URL="http://127.0.0.1:$port/"
export COLEARN_UI_READONLY_URL="http://127.0.0.1:$readonly_port/"
export COLEARN_UI_TOKEN="$token"
echo "run-hardhat.sh: jupyter lab acting as ada on port $port, read-only on port $readonly_port"
mkdir -p "$work/lab/config" "$work/readonly/config"
echo '{"ColearnSettings": {"account": "ada"}}' >"$work/lab/config/jupyter_server_config.json"
start_lab lab "$port" "$token" "$root"
lab_pid=$LAB_PID
start_lab readonly "$readonly_port" "$token" "$root"
readonly_pid=$LAB_PID
wait_lab lab "$lab_pid" "$COLEARN_UI_URL" "$token"
wait_lab readonly "$readonly_pid" "$COLEARN_UI_READONLY_URL" "$token"
for url in "$COLEARN_UI_URL" "$COLEARN_UI_READONLY_URL"; do
  echo "run-hardhat.sh: colearn status at $url: $(curl -sS -H "Authorization: token $token" "${url}colearn/api/status" || true)"
done

cd "$ext"
node_modules/.bin/playwright test -c ui-tests/playwright.config.ts --project hardhat --pass-with-no-tests "$@"
