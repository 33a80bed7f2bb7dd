# Shared by run.sh and run-hardhat.sh (sourced first, after `set -euo pipefail`): where things are and the tools the
# UI tests need, each profile's temporary directory, free ports, a JupyterLab started and stopped, on loopback only.
# Sets here (ui-tests/), ext (labextension/), repo, PYTHON and JUPYTER (default <repo>/.venv/bin/...) and CHROMIUM
# (default /usr/bin/chromium: Debian's, never a downloaded browser).

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ext="$(dirname "$here")"
repo="$(dirname "$ext")"
PYTHON="${PYTHON:-$repo/.venv/bin/python}"
JUPYTER="${JUPYTER:-$repo/.venv/bin/jupyter}"
export CHROMIUM="${CHROMIUM:-/usr/bin/chromium}"

# require_tools SCRIPT: stop (status 2) saying what to do when chromium, jupyter or the built extension is missing.
require_tools() {
  local me="$1"
  [ -x "$CHROMIUM" ] || { echo "$me: no chromium at $CHROMIUM (apt-get install -y chromium)" >&2; exit 2; }
  [ -x "$JUPYTER" ] || { echo "$me: no jupyter at $JUPYTER" >&2; exit 2; }
  [ -f "$repo/colearn_jupyter/labextension/package.json" ] || {
    echo "$me: the extension is not built (npm run build:prod)" >&2; exit 2; }
}

# new_work NAME: a fresh temporary directory $work (NAME-XXXXXX) holding a private COLEARN_HOME (exported) and the
# servers' root directory $root.
new_work() {
  work="$(mktemp -d "${TMPDIR:-/tmp}/$1-XXXXXX")"
  export COLEARN_HOME="$work/home"
  root="$work/root"
  mkdir -p "$COLEARN_HOME" "$root"
}

# field KEY: the value of KEY in the setup script's one line of JSON ($setup_json); a list as its items joined by commas.
field() {
  "$PYTHON" -c 'import json, sys; v = json.loads(sys.argv[1])[sys.argv[2]]; print(",".join(map(str, v)) if isinstance(v, list) else v)' \
    "$setup_json" "$1"
}

free_port() {
  "$PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

new_token() {
  "$PYTHON" -c 'import secrets; print(secrets.token_hex(24))'
}

# start_lab NAME PORT TOKEN ROOT [extra jupyter arguments...]: `jupyter lab` in the background, its own config and
# runtime directories under $work/NAME, its log in $work/NAME.log; sets LAB_PID.
start_lab() {
  local name="$1" port="$2" token="$3" lab_root="$4"
  shift 4
  mkdir -p "$work/$name/config" "$work/$name/runtime"
  # no "get notified about Jupyter news?" toast over the screenshots
  local settings="$work/$name/config/lab/user-settings/@jupyterlab/apputils-extension"
  mkdir -p "$settings"
  echo '{"fetchNews": "false"}' >"$settings/notification.jupyterlab-settings"
  JUPYTER_CONFIG_DIR="$work/$name/config" JUPYTER_RUNTIME_DIR="$work/$name/runtime" \
    "$JUPYTER" lab --no-browser --ServerApp.ip=127.0.0.1 --port "$port" --ServerApp.port_retries=0 \
    --IdentityProvider.token="$token" --allow-root --ServerApp.root_dir="$lab_root" \
    --LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate --LabApp.expose_app_in_browser=True "$@" \
    >"$work/$name.log" 2>&1 &
  LAB_PID=$!
}

# wait_lab NAME PID URL TOKEN: until the server answers /api/status (60 s at most); fails if it exits.
wait_lab() {
  local name="$1" pid="$2" url="$3" token="$4" i
  for i in $(seq 1 120); do
    if curl -fsS -H "Authorization: token $token" "${url}api/status" >/dev/null 2>&1; then return 0; fi
    kill -0 "$pid" 2>/dev/null || { echo "ui-tests: jupyter lab ($name) exited" >&2; return 1; }
    sleep 0.5
  done
  echo "ui-tests: jupyter lab ($name) did not answer in 60 s" >&2
  return 1
}

# stop_pid PID [GROUP]: TERM, up to 10 s, then KILL; with GROUP=1 the whole process group PID leads.
stop_pid() {
  local pid="$1" target="$1"
  [ -n "$pid" ] || return 0
  [ "${2:-0}" = "1" ] && target="-$pid"
  kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM -- "$target" 2>/dev/null || true
  for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.2; done
  kill -KILL -- "$target" 2>/dev/null || true
}

# show_log FILE: the last 40 lines of a log, after a failure.
show_log() {
  if [ -f "$1" ]; then
    echo "---- $(basename "$1") (last 40 lines) ----" >&2
    tail -n 40 "$1" >&2 || true
  fi
}
