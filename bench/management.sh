#!/usr/bin/env bash
# Benchmark: management-API throughput on SQLite, on PostgreSQL with one node, and with three
# nodes on one PostgreSQL database behind one load generator spread over the nodes. Writes are
# CreateApiV2 (a new API per request), reads ShowDetailsOfApiV2 and ListApisV2 (a page of 20 of the
# group's APIs). Figures are ratios against SQLite measured in the same run. See BENCHMARKS.md.
#
#   bash bench/management.sh                  # wrk -t2 -c16 -d10s per measurement (~2 min + build)
#   DURATION=3s SKIP_BUILD=1 bash bench/management.sh   # quick check
#
# Environment: DURATION (wrk -d, default 10s), CONNECTIONS (wrk -c in all, default 16; split over
# the nodes), SKIP_BUILD=1 (use the existing target/release/portico), PORTICO_BIN (another binary,
# e.g. a debug build for a dry run of the script; implies SKIP_BUILD).
# PostgreSQL is a throwaway cluster from scripts/postgres.sh with fsync switched back on (the
# tests' cluster runs without it), so its commits are as durable as SQLite's synchronous=FULL.
# Runs as root on Debian; installs wrk, curl and jq with apt-get when missing. Loopback only.
set -euo pipefail

DURATION="${DURATION:-10s}"
CONNECTIONS="${CONNECTIONS:-16}"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
RESULTS="$ROOT/bench/results/management.md"
LUA="$ROOT/bench/management_create.lua"

log() { printf '==> %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

missing=()
for tool in wrk curl jq; do command -v "$tool" >/dev/null 2>&1 || missing+=("$tool"); done
if [ "${#missing[@]}" -gt 0 ]; then
    [ "$(id -u)" -eq 0 ] || die "missing ${missing[*]}; run as root or install them with apt-get"
    log "installing ${missing[*]} (apt-get)"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
fi
BIN="${PORTICO_BIN:-$ROOT/target/release/portico}"
if [ "${SKIP_BUILD:-0}" != 1 ] && [ -z "${PORTICO_BIN:-}" ]; then
    log "building portico (cargo build --release -p portico)"
    (cd "$ROOT" && cargo build --release -p portico)
fi
[ -x "$BIN" ] || die "$BIN not found"

TMP="$(mktemp -d /tmp/portico-mgmt-bench.XXXXXX)"
PIDS=()
# shellcheck source=scripts/postgres.sh
source "$ROOT/scripts/postgres.sh"
stop_nodes() {
    local pid
    for pid in "${PIDS[@]}"; do
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    PIDS=()
}
cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    stop_nodes
    portico_pg_stop
    rm -rf "$TMP"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
# A copy, so that a concurrent rebuild cannot swap the binary under the running nodes.
cp "$BIN" "$TMP/portico"

portico_pg_start || die "no PostgreSQL (run as root to install it)"
psql -q "$PORTICO_TEST_POSTGRES" -c "ALTER SYSTEM SET fsync = on" -c "SELECT pg_reload_conf()" >/dev/null
ADMIN_URL="$PORTICO_TEST_POSTGRES"

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# start_node NAME [DATABASE_URL]: starts `portico serve` on data dir $TMP/NAME, prints its URL.
start_node() {
    local name=$1 database=${2:-} port gport i
    port="$(free_port)"
    gport="$(free_port)"
    env -u PORTICO_CONFIG -u PORTICO_LOG_FORMAT RUST_LOG=warn \
        "$TMP/portico" serve --listen "127.0.0.1:$port" --gateway-listen "127.0.0.1:$gport" \
        --data-dir "$TMP/$name" ${database:+--database "$database"} >"$TMP/$name.log" 2>&1 &
    PIDS+=($!)
    for i in $(seq 1 300); do
        curl -fsS -o /dev/null "http://127.0.0.1:$port/health" 2>/dev/null && { echo "http://127.0.0.1:$port"; return; }
        kill -0 "${PIDS[-1]}" 2>/dev/null || break
        sleep 0.1
    done
    cat "$TMP/$name.log" >&2
    die "node $name did not answer GET /health"
}

new_database() {
    local name="portico_bench_$RANDOM$RANDOM"
    psql -q "$ADMIN_URL" -c "CREATE DATABASE \"$name\"" >/dev/null
    echo "${ADMIN_URL%/*}/$name"
}

# cred DATA_DIR KEY: a value of the bootstrapped credentials.toml.
cred() { sed -n "s/^$2 = \"\(.*\)\"$/\1/p" "$1/credentials.toml"; }

# token NODE_URL DATA_DIR: a token for the bootstrapped admin.
token() {
    local body
    body="$(jq -cn --arg u "$(cred "$2" admin_user)" --arg p "$(cred "$2" admin_password)" \
        --arg d "$(cred "$2" domain)" --arg pr "$(cred "$2" project_id)" \
        '{auth:{identity:{methods:["password"],password:{user:{name:$u,password:$p,domain:{name:$d}}}},scope:{project:{id:$pr}}}}')"
    curl -fsS -D - -o /dev/null -H 'Content-Type: application/json' --data-binary "$body" "$1/v3/auth/tokens" \
        | tr -d '\r' | sed -n 's/^[Xx]-[Ss]ubject-[Tt]oken: *//p'
}

rps() { awk '$1 == "Requests/sec:" { printf "%.0f", $2; found = 1 } END { if (!found) exit 1 }' "$1"; }

# measure NAME KIND PATH NODE_URL... : wrk on every node at once (connections split), the summed req/s.
measure() {
    local name=$1 kind=$2 path=$3 n=0 url total=0 conns out
    shift 3
    conns=$(( (CONNECTIONS + $# - 1) / $# ))
    local wrk_pids=()
    for url in "$@"; do
        n=$((n + 1))
        out="$TMP/wrk-$name-$kind-$n.txt"
        local args=(-t1 -c"$conns" -d"$DURATION" -H "X-Auth-Token: $TOKEN" -H "Content-Type: application/json")
        if [ "$kind" = write ]; then
            wrk "${args[@]}" -s "$LUA" "$url$path" -- "$GROUP" "b${name}x${n}" >"$out" &
        else
            wrk "${args[@]}" "$url$path" >"$out" &
        fi
        wrk_pids+=($!)
    done
    for n in "${wrk_pids[@]}"; do wait "$n"; done
    for out in "$TMP"/wrk-"$name"-"$kind"-*.txt; do
        if grep -q 'Non-2xx or 3xx responses' "$out"; then cat "$out" >&2; die "$name $kind: non-2xx answers"; fi
        total=$((total + $(rps "$out")))
    done
    echo "$total"
}

# run NAME NODE_URL... : the three measurements on these nodes (the first bootstrapped $TMP/NAME0).
declare -A RESULT
run() {
    local name=$1
    shift
    TOKEN="$(token "$1" "$TMP/${name}0")"
    [ -n "$TOKEN" ] || die "$name: no token"
    BASE="/v2/$(cred "$TMP/${name}0" project_id)/apigw/instances/$(cred "$TMP/${name}0" instance_id)"
    GROUP="$(curl -fsS -H "X-Auth-Token: $TOKEN" -H 'Content-Type: application/json' \
        --data-binary "{\"name\":\"bench_$name\"}" "$1$BASE/api-groups" | jq -er .id)"
    log "$name: CreateApiV2 on ${#} node(s), $DURATION"
    RESULT[$name,write]="$(measure "$name" write "$BASE/apis" "$@")"
    local count api
    count="$(curl -fsS -H "X-Auth-Token: $TOKEN" "$1$BASE/apis?group_id=$GROUP&limit=1" | jq -er .total)"
    api="$(curl -fsS -H "X-Auth-Token: $TOKEN" "$1$BASE/apis?group_id=$GROUP&limit=1" | jq -er '.apis[0].id')"
    RESULT[$name,apis]="$count"
    log "$name: ShowDetailsOfApiV2, $DURATION"
    RESULT[$name,details]="$(measure "$name" details "$BASE/apis/$api" "$@")"
    log "$name: ListApisV2 (20 of $count), $DURATION"
    RESULT[$name,list]="$(measure "$name" list "$BASE/apis?group_id=$GROUP&limit=20&offset=20" "$@")"
}

log "SQLite, one node"
URL="$(start_node sqlite0)"
run sqlite "$URL"
stop_nodes

log "PostgreSQL, one node"
URL="$(start_node pg10 "$(new_database)")"
run pg1 "$URL"
stop_nodes

log "PostgreSQL, three nodes on one database"
DB="$(new_database)"
URL1="$(start_node pg30 "$DB")"
for i in 1 2; do mkdir -p "$TMP/pg3$i" && cp "$TMP/pg30/secrets.key" "$TMP/pg3$i/"; done
URL2="$(start_node pg31 "$DB")"
URL3="$(start_node pg32 "$DB")"
run pg3 "$URL1" "$URL2" "$URL3"
stop_nodes

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }
DATE="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
COMMIT="$(git -C "$ROOT" -c safe.directory='*' rev-parse --short HEAD 2>/dev/null || echo unknown)"
LOAD="$(cut -d' ' -f1-3 /proc/loadavg)"
printf '\n=== management API: SQLite vs PostgreSQL (1 node, 3 nodes) ===\n'
printf 'date %s  commit %s  nproc %s  load avg %s  wrk -c%s -d%s (split over the nodes)\n' \
    "$DATE" "$COMMIT" "$(nproc)" "$LOAD" "$CONNECTIONS" "$DURATION"
printf '%-26s %12s %12s %12s\n' "req/s (ratio to SQLite)" sqlite pg-1-node pg-3-nodes
printf '%-26s %12s %12s %12s\n' "APIs in the group" "${RESULT[sqlite,apis]}" "${RESULT[pg1,apis]}" "${RESULT[pg3,apis]}"
for kind in write details list; do
    printf '%-26s %12s %12s %12s\n' "$kind" "${RESULT[sqlite,$kind]}" \
        "${RESULT[pg1,$kind]} ($(ratio "${RESULT[pg1,$kind]}" "${RESULT[sqlite,$kind]}"))" \
        "${RESULT[pg3,$kind]} ($(ratio "${RESULT[pg3,$kind]}" "${RESULT[sqlite,$kind]}"))"
done
mkdir -p "$(dirname "$RESULTS")"
if [ ! -s "$RESULTS" ]; then
    printf '| date (UTC) | commit | load avg | wrk | kind | SQLite req/s | PG 1 node req/s (ratio) | PG 3 nodes req/s (ratio) |\n| --- | --- | --- | --- | --- | --- | --- | --- |\n' >"$RESULTS"
fi
for kind in write details list; do
    printf '| %s | %s | %s | -c%s -d%s | %s | %s | %s (%s) | %s (%s) |\n' "$DATE" "$COMMIT" "$LOAD" "$CONNECTIONS" \
        "$DURATION" "$kind" "${RESULT[sqlite,$kind]}" "${RESULT[pg1,$kind]}" \
        "$(ratio "${RESULT[pg1,$kind]}" "${RESULT[sqlite,$kind]}")" "${RESULT[pg3,$kind]}" \
        "$(ratio "${RESULT[pg3,$kind]}" "${RESULT[sqlite,$kind]}")" >>"$RESULTS"
done
log "appended to ${RESULTS#"$ROOT"/}"
