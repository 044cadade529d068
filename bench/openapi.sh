#!/usr/bin/env bash
# Benchmark: export and import of API definitions. In one run on this machine:
#   1. `cargo bench -p portico-openapi --bench export`: the exporter writing a 10,000-API group
#      (JSON and YAML) against serde_json writing the same document from memory;
#   2. import of a 10,000-API Swagger document through the HTTP API (one transaction), then
#      a batch publish of the group;
#   3. export of that group at define=all, JSON and YAML, end to end through the HTTP API;
#   4. moto's API Gateway export of a REST API with 10,000 resources (method + HTTP integration).
# Figures go to bench/results/openapi.md; BENCHMARKS.md explains them.
#
#   bash bench/openapi.sh            # APIS=10000 RUNS=5
#   APIS=1000 RUNS=3 SKIP_BUILD=1 bash bench/openapi.sh
#
# Installs curl and jq with apt-get when missing, and moto in bench/.venv-moto.
set -euo pipefail

APIS="${APIS:-10000}"
RUNS="${RUNS:-5}"
MOTO_VERSION="5.2.5"

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
RESULTS="$ROOT/bench/results/openapi.md"

log() { printf '==> %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

missing=()
command -v curl >/dev/null 2>&1 || missing+=(curl)
command -v jq >/dev/null 2>&1 || missing+=(jq)
if [ "${#missing[@]}" -gt 0 ]; then
    [ "$(id -u)" -eq 0 ] || die "missing ${missing[*]}; run as root or install them with apt-get"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update && apt-get install -y "${missing[@]}"
fi

VENV="$ROOT/bench/.venv-moto"
if ! "$VENV/bin/python" -c "import moto, boto3" 2>/dev/null; then
    log "installing moto $MOTO_VERSION in $VENV"
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install -q "moto[apigateway]==$MOTO_VERSION"
fi

if [ "${SKIP_BUILD:-0}" != 1 ]; then
    log "building portico (release)"
    (cd "$ROOT" && cargo build --release -p portico)
fi

TMP="$(mktemp -d /tmp/portico-openapi-bench.XXXXXX)"
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

median() { sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

# --- 1. the writer against serde_json -------------------------------------------------------------
log "cargo bench -p portico-openapi --bench export"
(cd "$ROOT" && cargo bench -p portico-openapi --bench export 2>&1) | tee "$TMP/criterion.txt" >&2
criterion_ms() { # the middle estimate of "<name> ... time: [a b c]", in ms
    awk -v name="$1" '$0 ~ name {found=1} found && /time:/ {
        v=$4; u=$5; if (u=="s") v*=1000; if (u=="µs"||u=="us") v/=1000; print v; exit }' "$TMP/criterion.txt"
}
SERDE_MS="$(criterion_ms serde_json_value_to_writer_pretty)"
WRITER_JSON_MS="$(criterion_ms 'export_10k_apis/portico_json')"
WRITER_YAML_MS="$(criterion_ms 'export_10k_apis/portico_yaml')"
DECODE_MS="$(criterion_ms 'export_10k_apis/decode_stored_apis')"

# --- 2. a server, a token -------------------------------------------------------------------------
PORT=$((20000 + RANDOM % 40000))
URL="http://127.0.0.1:$PORT"
"$ROOT/target/release/portico" serve --listen "127.0.0.1:$PORT" --data-dir "$TMP/data" >"$TMP/portico.log" 2>&1 &
PORTICO_PID=$!
for _ in $(seq 1 100); do curl -fsS -o /dev/null "$URL/health" 2>/dev/null && break; sleep 0.1; done
cred() { sed -n "s/^$1[[:space:]]*=[[:space:]]*\"\(.*\)\"[[:space:]]*$/\1/p" "$TMP/data/credentials.toml" | head -n1; }
PROJECT="$(cred project_id)"; INSTANCE="$(cred instance_id)"
auth_body="$(jq -cn --arg u "$(cred admin_user)" --arg p "$(cred admin_password)" --arg d "$(cred domain)" \
    --arg pr "$PROJECT" \
    '{auth:{identity:{methods:["password"],password:{user:{name:$u,password:$p,domain:{name:$d}}}},scope:{project:{id:$pr}}}}')"
TOKEN="$(curl -sS -D - -o /dev/null -H 'Content-Type: application/json' --data-binary "$auth_body" \
    "$URL/v3/auth/tokens" | tr -d '\r' | sed -n 's/^[Xx]-[Ss]ubject-[Tt]oken:[[:space:]]*//p')"
[ -n "$TOKEN" ] || die "no token"
BASE="$URL/v2/$PROJECT/apigw/instances/$INSTANCE"

# --- 3. import, publish ---------------------------------------------------------------------------
python3 "$ROOT/bench/openapi_doc.py" "$APIS" >"$TMP/doc.json"
DOC_BYTES="$(stat -c %s "$TMP/doc.json")"
log "importing $APIS APIs ($DOC_BYTES bytes)"
IMPORT_S="$(curl -sS -o "$TMP/import.json" -w '%{time_total}' -H "X-Auth-Token: $TOKEN" \
    -F is_create_group=true -F "file_name=@$TMP/doc.json" "$BASE/openapi/import")"
CREATED="$(jq '[.success[] | select(.action == "create")] | length' "$TMP/import.json")"
[ "$CREATED" = "$APIS" ] || die "import created $CREATED of $APIS: $(head -c 500 "$TMP/import.json")"
GROUP_ID="$(jq -r .group_id "$TMP/import.json")"
log "publishing the group in RELEASE"
PUBLISH_S="$(curl -sS -o "$TMP/publish.json" -w '%{time_total}' -H "X-Auth-Token: $TOKEN" \
    -H 'Content-Type: application/json' --data-binary "{\"group_id\":\"$GROUP_ID\",\"env_id\":\"DEFAULT_ENVIRONMENT_RELEASE_ID\"}" \
    "$BASE/apis/publish?action=online")"
rss_kib() { awk -v k="$1:" '$1==k {print $2}' "/proc/$PORTICO_PID/status"; }
HWM_BEFORE="$(rss_kib VmHWM)"; ANON_BEFORE="$(rss_kib RssAnon)"
# Heap (anonymous) memory sampled through the exports: VmRSS also counts the database pages
# SQLite reads through its memory map, which are page cache, not the export's memory.
( peak=0; while kill -0 "$PORTICO_PID" 2>/dev/null && [ ! -e "$TMP/stop-sampling" ]; do
    v="$(rss_kib RssAnon)"; [ "${v:-0}" -gt "$peak" ] && peak="$v"; echo "$peak" >"$TMP/anon-peak"; sleep 0.02
  done ) &
SAMPLER=$!

# --- 4. export through HTTP -----------------------------------------------------------------------
export_once() { # type -> "seconds bytes"
    curl -sS -o /dev/null -w '%{time_total} %{size_download}\n' -H "X-Auth-Token: $TOKEN" \
        -H 'Content-Type: application/json' \
        --data-binary "{\"group_id\":\"$GROUP_ID\",\"env_id\":\"DEFAULT_ENVIRONMENT_RELEASE_ID\",\"define\":\"all\",\"type\":\"$1\"}" \
        "$BASE/openapi/export"
}
for type in json yaml; do
    export_once "$type" >"$TMP/$type.cold" # the first export, while SQLite's pages are still cold
    : >"$TMP/$type.times"
    for _ in $(seq 1 "$RUNS"); do export_once "$type" >>"$TMP/$type.times"; done
done
HTTP_JSON_S="$(cut -d' ' -f1 "$TMP/json.times" | median)"; JSON_BYTES="$(head -n1 "$TMP/json.times" | cut -d' ' -f2)"
HTTP_YAML_S="$(cut -d' ' -f1 "$TMP/yaml.times" | median)"; YAML_BYTES="$(head -n1 "$TMP/yaml.times" | cut -d' ' -f2)"
HWM_AFTER="$(rss_kib VmHWM)"
touch "$TMP/stop-sampling"; wait "$SAMPLER" 2>/dev/null || true
ANON_PEAK="$(cat "$TMP/anon-peak")"
COLD_JSON_S="$(cut -d' ' -f1 "$TMP/json.cold")"

# --- 5. moto --------------------------------------------------------------------------------------
log "moto: REST API with $APIS resources, get_export x$RUNS"
MOTO="$("$VENV/bin/python" "$ROOT/bench/moto_export.py" "$APIS" "$RUNS")"
MOTO_S="$(jq -r .seconds <<<"$MOTO")"; MOTO_BYTES="$(jq -r .bytes <<<"$MOTO")"

ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a / b}'; }
per_api_us() { awk -v s="$1" -v n="$APIS" 'BEGIN {printf "%.1f", s * 1e6 / n}'; }
mkdir -p "$(dirname "$RESULTS")"
{
    echo "# Export/import benchmark — $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg), $APIS APIs, median of $RUNS"
    echo
    echo "| measurement | time | bytes | per API |"
    echo "|---|---|---|---|"
    echo "| serde_json writes the document from memory (criterion) | ${SERDE_MS} ms | $JSON_BYTES | |"
    echo "| portico writer, JSON (criterion) | ${WRITER_JSON_MS} ms | | |"
    echo "| portico writer, YAML (criterion) | ${WRITER_YAML_MS} ms | | |"
    echo "| decoding the $APIS stored API documents (criterion) | ${DECODE_MS} ms | | |"
    echo "| HTTP export define=all, JSON, first after the import | $(awk -v s="$COLD_JSON_S" 'BEGIN{printf "%.1f", s*1000}') ms | $JSON_BYTES | $(per_api_us "$COLD_JSON_S") µs |"
    echo "| HTTP export define=all, JSON | $(awk -v s="$HTTP_JSON_S" 'BEGIN{printf "%.1f", s*1000}') ms | $JSON_BYTES | $(per_api_us "$HTTP_JSON_S") µs, $((JSON_BYTES / APIS)) B |"
    echo "| HTTP export define=all, YAML | $(awk -v s="$HTTP_YAML_S" 'BEGIN{printf "%.1f", s*1000}') ms | $YAML_BYTES | $(per_api_us "$HTTP_YAML_S") µs, $((YAML_BYTES / APIS)) B |"
    echo "| moto get_export (swagger), $APIS resources | $(awk -v s="$MOTO_S" 'BEGIN{printf "%.1f", s*1000}') ms | $MOTO_BYTES | $(per_api_us "$MOTO_S") µs, $((MOTO_BYTES / APIS)) B |"
    echo "| HTTP import, one transaction | $(awk -v s="$IMPORT_S" 'BEGIN{printf "%.0f", s*1000}') ms | $DOC_BYTES | |"
    echo "| batch publish of the group | $(awk -v s="$PUBLISH_S" 'BEGIN{printf "%.0f", s*1000}') ms | | |"
    echo
    echo "Ratios: HTTP JSON export / serde_json = $(ratio "$HTTP_JSON_S" "$(awk -v m="$SERDE_MS" 'BEGIN{print m/1000}')") (target ≤ 2), cold $(ratio "$COLD_JSON_S" "$(awk -v m="$SERDE_MS" 'BEGIN{print m/1000}')");"
    echo "writer JSON / serde_json = $(ratio "$WRITER_JSON_MS" "$SERDE_MS"); decoding alone / serde_json = $(ratio "$DECODE_MS" "$SERDE_MS"); YAML / JSON over HTTP = $(ratio "$HTTP_YAML_S" "$HTTP_JSON_S") (target ≤ 3);"
    echo "per API, portico JSON / moto = $(ratio "$HTTP_JSON_S" "$MOTO_S") (target < 1)."
    echo "Server memory: heap (RssAnon) $((ANON_BEFORE / 1024)) MiB before the exports, at most $((ANON_PEAK / 1024)) MiB during $((2 * RUNS + 2)) exports of a $((JSON_BYTES / 1048576)) MiB document; VmHWM (with mapped database pages) $((HWM_BEFORE / 1024)) → $((HWM_AFTER / 1024)) MiB."
} | tee "$RESULTS"
