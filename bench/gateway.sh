#!/usr/bin/env bash
# Benchmark: Portico's gateway against nginx `proxy_pass`, both in front of the same 1 KB backend
# (nginx serving a static file), keep-alive towards the backend on both sides. See BENCHMARKS.md.
#
#   bash bench/gateway.sh                  # full run: wrk -t2 -c64 -d30s against each proxy
#   DURATION=5s bash bench/gateway.sh      # quick check
#
# Environment: DURATION (wrk -d, default 30s), THREADS (wrk -t, default 2), CONNECTIONS (wrk -c,
# default 64), NGINX_WORKERS (default: TOKIO_WORKER_THREADS if set, else nproc, which is also the
# default number of Portico's gateway workers), SKIP_BUILD=1
# (use the existing target/release/portico), KEEP_TMP=1 (keep the data dir and logs), ROUTES=100000 (also measure startup, p99 and RSS with
# that many live APIs, against the 10-API case; startup is timed STARTUP_RUNS times, default 3, and
# so is one publish at that size, until the gateway serves it), POLICIES=1 (the bench API uses APP authentication,
# each request signed with an authorized app's key, and has a throttling policy with limits it
# never reaches and an IP ACL permitting 127.0.0.1 bound: the target is then >= 0.75x nginx).
# Access logs are off on both proxies.
# Runs as root on Debian; installs nginx, wrk (and curl, jq, procps) with apt-get when missing.
set -euo pipefail

DURATION="${DURATION:-30s}"
THREADS="${THREADS:-2}"
CONNECTIONS="${CONNECTIONS:-64}"

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
RESULTS="$ROOT/bench/results/gateway.md"

log() { printf '==> %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# --- 1. tools ------------------------------------------------------------------------------------
missing=()
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || missing+=(nginx)
command -v wrk >/dev/null 2>&1 || missing+=(wrk)
command -v curl >/dev/null 2>&1 || missing+=(curl)
command -v jq >/dev/null 2>&1 || missing+=(jq)
command -v ps >/dev/null 2>&1 || missing+=(procps)
if [ "${#missing[@]}" -gt 0 ]; then
    [ "$(id -u)" -eq 0 ] || die "missing ${missing[*]}; run as root or install them with apt-get"
    log "installing ${missing[*]} (apt-get)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update
    apt-get install -y "${missing[@]}"
fi
NGINX="$(command -v nginx || echo /usr/sbin/nginx)"

if ! command -v cargo >/dev/null 2>&1; then
    [ -x "$HOME/.cargo/bin/cargo" ] && PATH="$HOME/.cargo/bin:$PATH"
    command -v cargo >/dev/null 2>&1 || die "cargo not found: install a Rust toolchain first"
fi
if [ "${SKIP_BUILD:-0}" != 1 ]; then
    log "building portico (cargo build --release -p portico)"
    (cd "$ROOT" && cargo build --release -p portico)
fi
[ -x "$ROOT/target/release/portico" ] || die "$ROOT/target/release/portico not found"

# --- cleanup, even on failure ---------------------------------------------------------------------
TMP="$(mktemp -d /tmp/portico-gw-bench.XXXXXX)"
PORTICO_PID=""
NGINX_PID=""
cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    for pid in "$NGINX_PID" "$PORTICO_PID"; do
        if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
            kill "$pid" 2>/dev/null || true
            wait "$pid" 2>/dev/null || true
        fi
    done
    if [ "${KEEP_TMP:-0}" = 1 ]; then log "kept $TMP"; else rm -rf "$TMP"; fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Copy the binary so a concurrent rebuild cannot swap it under the running server.
cp "$ROOT/target/release/portico" "$TMP/portico"

free_port() {
    local port i
    for i in $(seq 1 200); do
        port=$((20000 + RANDOM % 40000))
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            echo "$port"
            return 0
        fi
    done
    die "no free port found"
}

wait_http() { # url pid [curl args…]
    local url=$1 pid=$2 i
    shift 2
    for i in $(seq 1 300); do
        kill -0 "$pid" 2>/dev/null || return 1
        curl -fsS -o /dev/null "$@" "$url" 2>/dev/null && return 0
        sleep 0.1
    done
    return 1
}

# --- 2. nginx: the 1 KB backend and the reference proxy ----------------------------------------------
NGINX_WORKERS="${NGINX_WORKERS:-${TOKIO_WORKER_THREADS:-$(nproc)}}"
B_PORT="$(free_port)"
N_PORT="$(free_port)"
while [ "$N_PORT" = "$B_PORT" ]; do N_PORT="$(free_port)"; done
N_DIR="$TMP/nginx"
mkdir -p "$N_DIR/www" "$N_DIR/tmp"
head -c 1024 /dev/zero | tr '\0' 'x' >"$N_DIR/www/data.txt"
chmod 755 "$TMP" "$N_DIR" "$N_DIR/www"
chmod 644 "$N_DIR/www/data.txt"
cat >"$N_DIR/nginx.conf" <<EOF
worker_processes $NGINX_WORKERS;
pid $N_DIR/nginx.pid;
error_log $N_DIR/error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    default_type text/plain;
    sendfile on;
    tcp_nodelay on;
    keepalive_timeout 75s;
    keepalive_requests 1000000;
    client_body_temp_path $N_DIR/tmp/body;
    proxy_temp_path $N_DIR/tmp/proxy;
    fastcgi_temp_path $N_DIR/tmp/fastcgi;
    uwsgi_temp_path $N_DIR/tmp/uwsgi;
    scgi_temp_path $N_DIR/tmp/scgi;
    upstream backend {
        server 127.0.0.1:$B_PORT;
        keepalive 256;
        keepalive_requests 1000000;
    }
    # The backend: 1 KB static file.
    server {
        listen 127.0.0.1:$B_PORT;
        root $N_DIR/www;
        location / { try_files \$uri =404; }
    }
    # The reference proxy: keep-alive to the backend, like Portico's pool.
    server {
        listen 127.0.0.1:$N_PORT;
        location / {
            proxy_pass http://backend/data.txt;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_buffering on;
        }
    }
}
EOF
log "starting nginx ($NGINX_WORKERS workers): backend :$B_PORT, proxy :$N_PORT"
"$NGINX" -e "$N_DIR/error.log" -p "$N_DIR" -c "$N_DIR/nginx.conf" -g 'daemon off;' &
NGINX_PID=$!
wait_http "http://127.0.0.1:$N_PORT/" "$NGINX_PID" || { cat "$N_DIR/error.log" >&2 || true; die "nginx did not start"; }

# --- 3. Portico ----------------------------------------------------------------------------------------
P_PORT="$(free_port)"
G_PORT="$(free_port)"
while [ "$G_PORT" = "$P_PORT" ] || [ "$G_PORT" = "$B_PORT" ] || [ "$G_PORT" = "$N_PORT" ]; do G_PORT="$(free_port)"; done
P_URL="http://127.0.0.1:$P_PORT"
start_portico() {
    log "starting portico: management $P_URL, gateway :$G_PORT"
    env -u PORTICO_CONFIG -u PORTICO_LOG_FORMAT RUST_LOG="info,portico_gateway::access=off" \
        "$TMP/portico" serve --listen "127.0.0.1:$P_PORT" --gateway-listen "127.0.0.1:$G_PORT" \
        --data-dir "$TMP/data" >>"$TMP/portico.log" 2>&1 &
    PORTICO_PID=$!
}
stop_portico() {
    kill "$PORTICO_PID"
    wait "$PORTICO_PID" 2>/dev/null || true
    PORTICO_PID=""
}
# seed_apis TOTAL: copies the published bench API (with a path parameter) until TOTAL APIs are
# live, straight into SQLite with the server stopped: 100 000 management calls would take far
# longer than the measurement itself.
seed_apis() {
    python3 "$ROOT/bench/seed_routes.py" "$TMP/data/portico.db" "$API_ID" "$1"
}
# wait_gateway START [PATH]: waits until the gateway serves PATH, an API without authentication, or
# by default the bench API (signed when POLICIES=1); prints the seconds since START
# (`date +%s.%N`). One keep-alive connection probing every 5 ms: a curl process per probe would
# take CPU from the server being timed.
wait_gateway() {
    local headers=(-H "Host: $HOST")
    [ -n "${2:-}" ] || headers+=("${SIGNED[@]}")
    python3 "$ROOT/bench/wait_served.py" "$1" "http://127.0.0.1:$G_PORT${2:-/bench}" "${headers[@]}" \
        --pid "$PORTICO_PID" || { cat "$TMP/portico.log" >&2; die "the gateway did not serve ${2:-/bench}"; }
}
start_portico
wait_http "$P_URL/health" "$PORTICO_PID" || { cat "$TMP/portico.log" >&2; die "portico did not answer GET /health"; }

cred() { sed -n "s/^$1[[:space:]]*=[[:space:]]*\"\(.*\)\"[[:space:]]*$/\1/p" "$TMP/data/credentials.toml" | head -n1; }
PROJECT="$(cred project_id)"
INSTANCE="$(cred instance_id)"
auth_body="$(jq -cn --arg u "$(cred admin_user)" --arg p "$(cred admin_password)" --arg d "$(cred domain)" --arg pr "$PROJECT" \
    '{auth:{identity:{methods:["password"],password:{user:{name:$u,password:$p,domain:{name:$d}}}},scope:{project:{id:$pr}}}}')"
TOKEN="$(curl -sS -D - -o /dev/null -H 'Content-Type: application/json' --data-binary "$auth_body" "$P_URL/v3/auth/tokens" \
    | tr -d '\r' | sed -n 's/^[Xx]-[Ss]ubject-[Tt]oken:[[:space:]]*//p' | head -n1)"
[ -n "$TOKEN" ] || die "no token"

call() { # METHOD PATH [BODY]
    local status
    status="$(curl -sS -o "$TMP/resp" -w '%{http_code}' -X "$1" -H 'Content-Type: application/json' \
        -H "X-Auth-Token: $TOKEN" ${3:+--data-binary "$3"} "$P_URL$2")" || die "$1 $2: curl failed"
    [ "${status:0:1}" = 2 ] || die "$1 $2 -> HTTP $status: $(cat "$TMP/resp")"
    cat "$TMP/resp"
}
BASE="/v2/$PROJECT/apigw/instances/$INSTANCE"
log "creating and publishing the API"
AUTH_TYPE=NONE
[ "${POLICIES:-0}" = 1 ] && AUTH_TYPE=APP
SIGNED=()
GROUP="$(call POST "$BASE/api-groups" '{"name":"bench_gateway"}')"
GROUP_ID="$(jq -er .id <<<"$GROUP")"
HOST="$(jq -er .sl_domain <<<"$GROUP")"
api_body="$(jq -cn --arg gid "$GROUP_ID" --arg backend "127.0.0.1:$B_PORT" --arg auth "$AUTH_TYPE" '
{"name": "bench_proxy", "type": 1, "req_protocol": "HTTP", "req_method": "GET", "req_uri": "/bench",
 "auth_type": $auth, "backend_type": "HTTP", "group_id": $gid,
 "backend_api": {"url_domain": $backend, "req_protocol": "HTTP", "req_method": "GET",
                 "req_uri": "/data.txt", "timeout": 5000}}')"
API_ID="$(call POST "$BASE/apis" "$api_body" | jq -er .id)"
PUBLISH_ID="$(call POST "$BASE/apis/action" "$(jq -cn --arg a "$API_ID" '{action:"online",env_id:"DEFAULT_ENVIRONMENT_RELEASE_ID",api_id:$a}')" | jq -er .publish_id)"
if [ "${POLICIES:-0}" = 1 ]; then
    log "policies: an authorized app, a throttling policy and an IP ACL on the API"
    APP="$(call POST "$BASE/apps" '{"name":"bench_app"}')"
    call POST "$BASE/app-auths" "$(jq -cn --arg app "$(jq -er .id <<<"$APP")" --arg api "$API_ID" \
        '{env_id:"DEFAULT_ENVIRONMENT_RELEASE_ID",app_ids:[$app],api_ids:[$api]}')" >/dev/null
    THROTTLE_ID="$(call POST "$BASE/throttles" '{"name":"bench_throttle","api_call_limits":2000000000,"app_call_limits":2000000000,"ip_call_limits":2000000000,"time_interval":1,"time_unit":"SECOND"}' | jq -er .id)"
    call POST "$BASE/throttle-bindings" "$(jq -cn --arg t "$THROTTLE_ID" --arg p "$PUBLISH_ID" '{strategy_id:$t,publish_ids:[$p]}')" >/dev/null
    ACL_ID="$(call POST "$BASE/acls" '{"acl_name":"bench_acl","acl_type":"PERMIT","acl_value":"127.0.0.1","entity_type":"IP"}' | jq -er .id)"
    call POST "$BASE/acl-bindings" "$(jq -cn --arg a "$ACL_ID" --arg p "$PUBLISH_ID" '{acl_id:$a,publish_ids:[$p]}')" >/dev/null
    # One signature (SDK-HMAC-SHA256 over GET /bench, Host and X-Sdk-Date) serves the whole run: the
    # gateway accepts a date within 15 minutes and, like APIG, keeps no nonces.
    SDK_DATE="$(date -u +%Y%m%dT%H%M%SZ)"
    AUTHORIZATION="$(python3 - "$(jq -er .app_key <<<"$APP")" "$(jq -er .app_secret <<<"$APP")" "$HOST" "$SDK_DATE" <<'PY'
import hashlib, hmac, sys
key, secret, host, date = sys.argv[1:]
canonical = f"GET\n/bench/\n\nhost:{host}\nx-sdk-date:{date}\n\nhost;x-sdk-date\n{hashlib.sha256(b'').hexdigest()}"
to_sign = f"SDK-HMAC-SHA256\n{date}\n{hashlib.sha256(canonical.encode()).hexdigest()}"
signature = hmac.new(secret.encode(), to_sign.encode(), hashlib.sha256).hexdigest()
print(f"SDK-HMAC-SHA256 Access={key}, SignedHeaders=host;x-sdk-date, Signature={signature}")
PY
)"
    SIGNED=(-H "X-Sdk-Date: $SDK_DATE" -H "Authorization: $AUTHORIZATION")
fi
G_URL="http://127.0.0.1:$G_PORT/bench"
wait_http "$G_URL" "$PORTICO_PID" -H "Host: $HOST" "${SIGNED[@]}" || die "the gateway does not serve the published API"
log "seeding 10 live APIs in all, restarting portico"
stop_portico
seed_apis 10 >/dev/null
start_portico
wait_gateway "$(date +%s.%N)" >/dev/null
curl -fsS -H "Host: $HOST" "${SIGNED[@]}" "$G_URL" | cmp -s - "$N_DIR/www/data.txt" || die "the gateway does not relay the backend's bytes"
curl -fsS "http://127.0.0.1:$N_PORT/" | cmp -s - "$N_DIR/www/data.txt" || die "nginx does not relay the backend's bytes"

# --- 4. wrk ------------------------------------------------------------------------------------------
p99_ms() {
    awk '$1 == "99%" {
        v = $2; u = v; sub(/[0-9.]+/, "", u); sub(/[a-z]+$/, "", v);
        if (u == "us") v /= 1000; else if (u == "s") v *= 1000; else if (u == "m") v *= 60000;
        printf "%.2f", v; found = 1 }
        END { if (!found) exit 1 }' "$1"
}
rps() { awk '$1 == "Requests/sec:" { printf "%.0f", $2; found = 1 } END { if (!found) exit 1 }' "$1"; }
run_wrk() { # name url [header…]
    local name=$1 url=$2 out="$TMP/wrk-$1.txt" header
    shift 2
    local args=(-t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency)
    for header in "$@"; do args+=(-H "$header"); done
    log "wrk ${args[*]} $url"
    wrk "${args[@]}" "$url" | tee "$out" >&2
    if grep -q 'Non-2xx or 3xx responses' "$out"; then die "$name answered non-2xx responses during the run"; fi
}
run_wrk nginx "http://127.0.0.1:$N_PORT/"
WRK_SIGNED=()
[ "${POLICIES:-0}" = 1 ] && WRK_SIGNED=("X-Sdk-Date: $SDK_DATE" "Authorization: $AUTHORIZATION")
run_wrk portico "$G_URL" "Host: $HOST" "${WRK_SIGNED[@]}"

PORTICO_RSS_KB="$(ps -o rss= -p "$PORTICO_PID" | tr -d ' ')"
N_RPS="$(rps "$TMP/wrk-nginx.txt")"
P_RPS="$(rps "$TMP/wrk-portico.txt")"
N_P99="$(p99_ms "$TMP/wrk-nginx.txt")"
P_P99="$(p99_ms "$TMP/wrk-portico.txt")"
RPS_RATIO="$(awk -v p="$P_RPS" -v n="$N_RPS" 'BEGIN { printf "%.2f", (n > 0 ? p / n : 0) }')"
P99_RATIO="$(awk -v p="$P_P99" -v n="$N_P99" 'BEGIN { printf "%.2f", (n > 0 ? p / n : 0) }')"
RPS_TARGET=0.9
[ "${POLICIES:-0}" = 1 ] && RPS_TARGET=0.75
RPS_OK="$(awk -v r="$RPS_RATIO" -v t="$RPS_TARGET" 'BEGIN { print (r >= t ? "yes" : "NO") }')"
P99_OK="$(awk -v r="$P99_RATIO" 'BEGIN { print (r <= 1.2 ? "yes" : "NO") }')"
DATE="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
COMMIT="$(git -C "$ROOT" -c safe.directory='*' rev-parse --short HEAD 2>/dev/null || echo unknown)"
if [ "$COMMIT" != unknown ] && ! git -C "$ROOT" -c safe.directory='*' diff --quiet HEAD -- 2>/dev/null; then
    COMMIT="$COMMIT+dirty"
fi

cat <<EOF

=== gateway: portico vs nginx proxy_pass, same 1 KB backend ===
date            $DATE
machine         nproc=$(nproc)
commit          $COMMIT
load            wrk -t$THREADS -c$CONNECTIONS -d$DURATION, nginx workers $NGINX_WORKERS
nginx           $N_RPS req/s, p99 $N_P99 ms
portico         $P_RPS req/s, p99 $P_P99 ms
policies        ${POLICIES:-0} (1: APP auth + throttling + ACL on the Portico API)
ratio           req/s portico/nginx = $RPS_RATIO (target >= $RPS_TARGET: $RPS_OK)
                p99 portico/nginx = $P99_RATIO (target <= 1.2: $P99_OK)
portico RSS     $PORTICO_RSS_KB KiB after the run
EOF

# --- 5. a large route table (ROUTES=100000) ----------------------------------------------------------
LARGE_ROW=""
if [ "${ROUTES:-0}" -gt 10 ]; then
    log "seeding $ROUTES live APIs, restarting portico"
    stop_portico
    seed_apis "$ROUTES" >/dev/null
    # Startup is timed STARTUP_RUNS times (the machine is noisy): spawn -> first proxied answer.
    STARTUPS=()
    for run in $(seq 1 "${STARTUP_RUNS:-3}"); do
        [ "$run" = 1 ] || stop_portico
        spawned="$(date +%s.%N)"
        start_portico
        STARTUPS+=("$(wait_gateway "$spawned")")
    done
    STARTUP_S="$(printf '%s\n' "${STARTUPS[@]}" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')"
    curl -fsS -o /dev/null -H "Host: $HOST" "http://127.0.0.1:$G_PORT/seed/$((ROUTES / 2))/x" \
        || die "a seeded API is not served"
    # A publish at this size: from the management API's answer to the gateway serving the new API.
    RELOAD_URI="/reload-probe"
    reload_body="$(jq -c --arg uri "$RELOAD_URI" '.name = "bench_reload" | .req_uri = $uri | .auth_type = "NONE"' <<<"$api_body")"
    RELOAD_API_ID="$(call POST "$BASE/apis" "$reload_body" | jq -er .id)"
    call POST "$BASE/apis/action" "$(jq -cn --arg a "$RELOAD_API_ID" '{action:"online",env_id:"DEFAULT_ENVIRONMENT_RELEASE_ID",api_id:$a}')" >/dev/null
    RELOAD_S="$(wait_gateway "$(date +%s.%N)" "$RELOAD_URI")"
    run_wrk portico-large "$G_URL" "Host: $HOST" "${WRK_SIGNED[@]}"
    L_P99="$(p99_ms "$TMP/wrk-portico-large.txt")"
    L_RPS="$(rps "$TMP/wrk-portico-large.txt")"
    L_RSS_KB="$(ps -o rss= -p "$PORTICO_PID" | tr -d ' ')"
    L_RATIO="$(awk -v l="$L_P99" -v s="$P_P99" 'BEGIN { printf "%.2f", (s > 0 ? l / s : 0) }')"
    printf '\n=== %s live APIs vs 10 ===\n' "$ROUTES"
    printf 'startup         %s s from spawn to the first proxied answer, median of %s (%s; target <= 1 s)\n' \
        "$STARTUP_S" "${#STARTUPS[@]}" "${STARTUPS[*]}"
    printf 'publish         %s s from the publish answer to the gateway serving the new API (target <= 1 s)\n' "$RELOAD_S"
    printf 'portico         %s req/s, p99 %s ms (10 APIs: %s ms; ratio %s, target <= 1.10)\n' \
        "$L_RPS" "$L_P99" "$P_P99" "$L_RATIO"
    printf 'portico RSS     %s KiB after the run (target <= 500 MB)\n' "$L_RSS_KB"
    grep 'gateway route table built' "$TMP/portico.log" | tail -n3 | sed 's/\x1b\[[0-9;]*m//g' >&2
    LARGE_ROW="$(printf '| %s | %s | %s | -t%s -c%s -d%s, %s live APIs | | %s | | | %s | p99 vs 10 APIs %s, startup %s s, publish %s s | %s |' \
        "$DATE" "$COMMIT" "$(nproc)" "$THREADS" "$CONNECTIONS" "$DURATION" "$ROUTES" \
        "$L_RPS" "$L_P99" "$L_RATIO" "$STARTUP_S" "$RELOAD_S" "$L_RSS_KB")"
fi

mkdir -p "$(dirname "$RESULTS")"
if [ ! -s "$RESULTS" ]; then
    cat >"$RESULTS" <<'EOF'
| date (UTC) | commit | nproc | load | nginx req/s | portico req/s | ratio | nginx p99 (ms) | portico p99 (ms) | p99 ratio | portico RSS (KiB) |
| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |
EOF
fi
LOAD="-t$THREADS -c$CONNECTIONS -d$DURATION"
[ "${POLICIES:-0}" = 1 ] && LOAD="$LOAD, APP auth + throttling + ACL"
printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' \
    "$DATE" "$COMMIT" "$(nproc)" "$LOAD" \
    "$N_RPS" "$P_RPS" "$RPS_RATIO" "$N_P99" "$P_P99" "$P99_RATIO" "$PORTICO_RSS_KB" >>"$RESULTS"
if [ -n "$LARGE_ROW" ]; then printf '%s\n' "$LARGE_ROW" >>"$RESULTS"; fi
log "appended to ${RESULTS#"$ROOT"/}"
