#!/usr/bin/env bash
# UI tests of the colearn sidebar against a live JupyterLab, in two profiles (COLEARN_UI_PROFILE=all, the default,
# runs both; devnet or hardhat runs one).
#
# devnet (this script):
#   1. a private COLEARN_HOME (its own devnet on a free port, its own store),
#   2. setup_marketplace.py publishes a model that learns (five versions), an iris model, bob's batch with
#      mislabelled rows and a demand of dave's, a stranger's model with XSS payloads in every field (and xss.ipynb,
#      which shows it in a notebook), and widgets.ipynb (the ipywidgets panels),
#   3. `jupyter lab` with a random token on a free port, root dir a temporary directory,
#   4. the Playwright project "devnet" (Debian's chromium, never a downloaded browser): colearn.spec.ts,
#      screenshots.spec.ts, xss.spec.ts,
#   5. everything stopped and removed, on success and on failure.
# hardhat (run-hardhat.sh, started once the devnet profile is stopped): a hardhat node with chain id 1337, keystore
#   accounts, a server acting as one and a read-only one (hardhat.spec.ts).
#
# Environment: PYTHON / JUPYTER (default ../.venv/bin/...), CHROMIUM (default /usr/bin/chromium),
# COLEARN_UI_SMOKE=1 to run only the "sidebar opens and lists models" test (devnet only), KEEP=1 to keep the temp
# dirs. Extra arguments go to `playwright test` (in both profiles). Screenshots: ui-tests/screenshots/.
set -euo pipefail

# shellcheck source=lib.sh
. "$(cd "$(dirname "$0")" && pwd)/lib.sh"
profile="${COLEARN_UI_PROFILE:-all}"
[ "${COLEARN_UI_SMOKE:-0}" = "1" ] && [ "$profile" = "all" ] && profile=devnet

case "$profile" in
  all | devnet) ;;
  hardhat) exec bash "$here/run-hardhat.sh" "$@" ;;
  *) echo "run.sh: COLEARN_UI_PROFILE is all, devnet or hardhat, not '$profile'" >&2; exit 2 ;;
esac

require_tools run.sh

# a fresh set of screenshots for a reviewer (the folder is git-ignored)
mkdir -p "$here/screenshots"
rm -f "$here"/screenshots/*.png

new_work colearn-ui
export COLEARN_DEVNET_PORT=0
unset COLEARN_RPC_URL COLEARN_MARKETPLACE COLEARN_IPFS_URL COLEARN_ACCOUNT || true
lab_pid=""
stopped=0

# stop this profile's JupyterLab and devnet (anvil), forget its chain and remove its directory; once
stop_devnet_profile() {
  local status="$1"
  [ "$stopped" = "1" ] && return 0
  stopped=1
  stop_pid "$lab_pid"
  "$PYTHON" -c 'import os; from colearn_jupyter import Devnet; Devnet(os.environ["COLEARN_HOME"]).reset()' \
    >/dev/null 2>&1 || true
  [ "$status" -ne 0 ] && show_log "$work/lab.log"
  if [ "${KEEP:-0}" = "1" ]; then echo "run.sh: kept $work" >&2; else rm -rf "$work"; fi
}

cleanup() {
  local status=$?
  stop_devnet_profile "$status"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "run.sh: publishing models and contributions (COLEARN_HOME=$COLEARN_HOME)"
setup_json="$("$PYTHON" "$here/setup_marketplace.py" --root-dir "$root" | tail -n 1)"
echo "run.sh: $setup_json"
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
export COLEARN_UI_GROWTH_MODEL_ID="$(field growth_model_id)"
export COLEARN_UI_WIDGETS_NOTEBOOK="$(field widgets_notebook)"

port="$(free_port)"
token="$(new_token)"
export COLEARN_UI_URL="http://127.0.0.1:$port/"
export COLEARN_UI_TOKEN="$token"

echo "run.sh: starting jupyter lab on port $port"
start_lab lab "$port" "$token" "$root"
lab_pid=$LAB_PID
wait_lab lab "$lab_pid" "$COLEARN_UI_URL" "$token"
echo "run.sh: jupyter lab is up; colearn status: $(curl -sS -H "Authorization: token $token" "${COLEARN_UI_URL}colearn/api/status" || true)"

cd "$ext"
devnet_status=0
node_modules/.bin/playwright test -c ui-tests/playwright.config.ts --project devnet --pass-with-no-tests "$@" ||
  devnet_status=$?
stop_devnet_profile "$devnet_status"

hardhat_status=0
if [ "$profile" = "all" ]; then
  bash "$here/run-hardhat.sh" "$@" || hardhat_status=$?
fi
[ "$devnet_status" -eq 0 ] || { echo "run.sh: the devnet profile failed" >&2; exit "$devnet_status"; }
[ "$hardhat_status" -eq 0 ] || { echo "run.sh: the hardhat profile failed" >&2; exit "$hardhat_status"; }
