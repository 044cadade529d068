#!/usr/bin/env bash
# Benchmark: DataArts DataService export zip (seed 003) of APIS (default 10,000) script APIs,
# i.e. 50 workbooks of 200. Starts a release `portico serve` on a fresh data dir, creates the APIs
# through the management API (token auth), then RUNS times: resets the server's peak RSS
# (`echo 5 > /proc/PID/clear_refs`), downloads `POST /v1/{project}/service/export/zip` with curl,
# and reads the time and the server's VmHWM. Checks the zip holds APIS/200 workbooks.
# Figures go to bench/results/dataservice.md; BENCHMARKS.md explains them.
#
#   bash bench/dataservice-export.sh                 # APIS=10000 RUNS=5
#   APIS=2000 RUNS=3 SKIP_BUILD=1 bash bench/dataservice-export.sh
#   PORTICO_BIN=/path/to/portico SKIP_BUILD=1 bash bench/dataservice-export.sh   # a given binary
set -euo pipefail

APIS="${APIS:-10000}"
RUNS="${RUNS:-5}"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
RESULTS="$ROOT/bench/results/dataservice.md"
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"

log() { printf '==> %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

for tool in curl python3 unzip; do
    command -v "$tool" >/dev/null 2>&1 || die "missing $tool (apt-get install -y $tool)"
done

if [ "${SKIP_BUILD:-0}" != 1 ]; then
    log "building portico (release)"
    (cd "$ROOT" && cargo build --release -p portico)
fi

TMP="$(mktemp -d /tmp/portico-ds-bench.XXXXXX)"
cp "${PORTICO_BIN:-$TARGET/release/portico}" "$TMP/portico"
PORTICO_PID=""
cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    if [ -n "$PORTICO_PID" ] && kill -0 "$PORTICO_PID" 2>/dev/null; then
        kill "$PORTICO_PID" 2>/dev/null || true
        wait "$PORTICO_PID" 2>/dev/null || true
    fi
    rm -rf "$TMP"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

PORT=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
GW_PORT=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
URL="http://127.0.0.1:$PORT"
"$TMP/portico" serve --listen "127.0.0.1:$PORT" --gateway-listen "127.0.0.1:$GW_PORT" --data-dir "$TMP/data" \
    >"$TMP/portico.log" 2>&1 &
PORTICO_PID=$!
for _ in $(seq 100); do curl -sf "$URL/health" >/dev/null && break; sleep 0.1; done
curl -sf "$URL/health" >/dev/null || die "portico did not start: $(cat "$TMP/portico.log")"

log "creating $APIS DataService APIs"
TOKEN_AND_PROJECT="$(python3 - "$URL" "$TMP/data/credentials.toml" "$APIS" <<'PY'
import json, sys, tomllib, urllib.request
url, creds_path, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
c = tomllib.load(open(creds_path, "rb"))
auth = {"auth": {"identity": {"methods": ["password"], "password": {"user": {
    "domain": {"name": c["domain"]}, "name": c["admin_user"], "password": c["admin_password"]}}},
    "scope": {"project": {"id": c["project_id"]}}}}
req = urllib.request.Request(f"{url}/v3/auth/tokens", json.dumps(auth).encode(), {"Content-Type": "application/json"})
token = urllib.request.urlopen(req).headers["X-Subject-Token"]
headers = {"Content-Type": "application/json", "X-Auth-Token": token, "workspace": "bench"}
for i in range(count):
    name = f"bench_api_{i:05d}"
    body = {"catalog_id": "0", "name": name, "description": "orders of a day", "api_type": "API_SPECIFIC_TYPE_SCRIPT",
            "auth_type": "APP", "path": f"/{name}/{{day}}", "protocol": "PROTOCOL_TYPE_HTTPS",
            "request_type": "REQUEST_TYPE_GET", "tags": ["orders", "daily"],
            "request_paras": [{"name": "day", "position": "REQUEST_PARAMETER_POSITION_PATH", "type": "REQUEST_TYPE_STRING",
                               "necessary": True, "example_value": "2024-01-01"}],
            "datasource_config": {"type": "DWS", "connection_name": "dws1", "database": "sales", "datatable": "orders",
                                  "sql": "select id, total from orders where day = ${day}",
                                  "response_paras": [{"name": "id", "field": "id", "type": "NUMBER"},
                                                     {"name": "total", "field": "total", "type": "NUMBER"}]}}
    urllib.request.urlopen(urllib.request.Request(f"{url}/v1/{c['project_id']}/service/apis",
                                                  json.dumps(body).encode(), headers))
print(token, c["project_id"])
PY
)"
read -r TOKEN PROJECT <<<"$TOKEN_AND_PROJECT"

WANT_FILES=$(( (APIS + 199) / 200 ))
: >"$TMP/runs"
for run in $(seq "$RUNS"); do
    echo 5 >"/proc/$PORTICO_PID/clear_refs"
    BASE_KB=$(awk '/VmRSS/ {print $2}' "/proc/$PORTICO_PID/status")
    # VmHWM counts the SQLite file pages the server maps too; the heap is RssAnon, sampled.
    ANON_BASE_KB=$(awk '/RssAnon/ {print $2}' "/proc/$PORTICO_PID/status")
    ( max=0; while [ ! -e "$TMP/done" ]; do
          a=$(awk '/RssAnon/ {print $2}' "/proc/$PORTICO_PID/status"); [ "$a" -gt "$max" ] && max=$a
          echo "$max" >"$TMP/anon"; sleep 0.005; done ) &
    SAMPLER=$!
    SECONDS_TAKEN=$(curl -sf -o "$TMP/export.zip" -w '%{time_total}' -X POST "$URL/v1/$PROJECT/service/export/zip" \
        -H "X-Auth-Token: $TOKEN" -H "workspace: bench" -H 'Content-Type: application/json' -d '{}')
    touch "$TMP/done"; wait "$SAMPLER"; rm -f "$TMP/done"
    ANON_PEAK_KB=$(cat "$TMP/anon")
    PEAK_KB=$(awk '/VmHWM/ {print $2}' "/proc/$PORTICO_PID/status")
    FILES=$(unzip -Z1 "$TMP/export.zip" | wc -l)
    [ "$FILES" -eq "$WANT_FILES" ] || die "run $run: $FILES workbooks, expected $WANT_FILES"
    SIZE=$(stat -c %s "$TMP/export.zip")
    log "run $run: ${SECONDS_TAKEN}s, $FILES workbooks, $SIZE bytes, RSS before ${BASE_KB} KiB, peak ${PEAK_KB} KiB, heap (RssAnon) ${ANON_BASE_KB} -> ${ANON_PEAK_KB} KiB"
    echo "$SECONDS_TAKEN $BASE_KB $PEAK_KB $SIZE $((ANON_PEAK_KB - ANON_BASE_KB))" >>"$TMP/runs"
done

median() { sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
TIME_MED=$(awk '{print $1}' "$TMP/runs" | median)
BASE_MED=$(awk '{print $2}' "$TMP/runs" | median)
PEAK_MAX=$(awk '{print $3}' "$TMP/runs" | sort -g | tail -1)
SIZE=$(awk '{print $4}' "$TMP/runs" | tail -1)
ANON_GROWTH_MAX=$(awk '{print $5}' "$TMP/runs" | sort -g | tail -1)
ONE_BOOK=$(unzip -p "$TMP/export.zip" dataservice_apis_001.xlsx | wc -c)

mkdir -p "$(dirname "$RESULTS")"
[ -f "$RESULTS" ] || printf '| date | APIs | workbooks | zip bytes | one workbook bytes | median s | RSS before KiB | peak RSS KiB (max) | heap growth KiB (max) | runs |\n|---|---|---|---|---|---|---|---|---|---|\n' >"$RESULTS"
printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' "$(date -u +%Y-%m-%dT%H:%MZ)" "$APIS" "$WANT_FILES" \
    "$SIZE" "$ONE_BOOK" "$TIME_MED" "$BASE_MED" "$PEAK_MAX" "$ANON_GROWTH_MAX" "$RUNS" >>"$RESULTS"
log "median ${TIME_MED}s; RSS before ${BASE_MED} KiB, peak ${PEAK_MAX} KiB, heap growth <= ${ANON_GROWTH_MAX} KiB; results in $RESULTS"
