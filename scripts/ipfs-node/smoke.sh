#!/usr/bin/env bash
# Smoke test: start a throw-away node, exercise add/cat/pin/block/version, stop it.
# usage: smoke.sh [port]   (env IPFS_NODE_MODULES as for start.sh)
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PORT="${1:-15099}"
REPO="$(mktemp -d)/repo"
URL="$("$HERE/start.sh" "$REPO" "$PORT")"
trap '"$HERE/stop.sh" "$REPO"; rm -rf "$(dirname "$REPO")"' EXIT
A="$URL/api/v0"
pass=0; fail=0
check() { if [ "$2" = "$3" ]; then pass=$((pass+1)); else fail=$((fail+1)); echo "FAIL $1: got '$2' want '$3'" >&2; fi; }
field() { python3 -c 'import sys,json; print(json.loads(sys.stdin.read().splitlines()[-1])[sys.argv[1]])' "$1"; }
TMP="$(dirname "$REPO")/hello"; printf 'hello world' > "$TMP"
check version "$(curl -sf -X POST "$A/version" | field Version)" 0.18.1
V1="$(curl -sf -X POST -F "file=@$TMP" "$A/add?cid-version=1&raw-leaves=true&cid-base=base32" | field Hash)"
check add-v1 "$V1" bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e
check add-v0 "$(curl -sf -X POST -F "file=@$TMP" "$A/add" | field Hash)" Qmf412jQZiuVUtdgnB36FXFX7xg5V6KEbSJ4dpQuhkLyfD
check cat "$(curl -sf -X POST "$A/cat?arg=$V1")" "hello world"
check block-get "$(curl -sf -X POST "$A/block/get?arg=$V1")" "hello world"
check pin-ls "$(curl -sf -X POST "$A/pin/ls?arg=$V1&cid-base=base32" | python3 -c 'import sys,json; print(list(json.load(sys.stdin)["Keys"]))')" "['$V1']"
check pin-rm "$(curl -sf -X POST "$A/pin/rm?arg=$V1&cid-base=base32" | field Pins)" "['$V1']"
check pin-ls-after-rm "$(curl -s -o /dev/null -w '%{http_code}' -X POST "$A/pin/ls?arg=$V1")" 500
check pin-add "$(curl -sf -X POST "$A/pin/add?arg=$V1&cid-base=base32" | field Pins)" "['$V1']"
echo "smoke: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
