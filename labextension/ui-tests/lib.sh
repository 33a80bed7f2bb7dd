# Shared by run.sh and run-hardhat.sh (sourced): free ports, a JupyterLab started and stopped, on loopback only.
# Needs PYTHON and JUPYTER set, and `work` (the run's temporary directory).

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
