#!/usr/bin/env bash
# Benchmark: GET API details (ShowDetailsOfApiV2) on Portico against nginx serving the very same
# JSON body as a static file. See BENCHMARKS.md for what is measured and how to read the figures.
#
#   bash bench/api-details.sh                 # full run: wrk -t2 -c64 -d30s, each target
#   DURATION=5s bash bench/api-details.sh     # quick check
#
# Environment: DURATION (wrk -d, default 30s), THREADS (wrk -t, default 2), CONNECTIONS (wrk -c,
# default 64), NGINX_WORKERS (default: the number of Tokio worker threads Portico runs, i.e.
# TOKIO_WORKER_THREADS if set, else nproc), SKIP_BUILD=1 (use the existing target/release/portico).
# Runs as root on Debian; installs nginx, wrk (and curl, jq, procps) with apt-get when missing.
set -euo pipefail

DURATION="${DURATION:-30s}"
THREADS="${THREADS:-2}"
CONNECTIONS="${CONNECTIONS:-64}"

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
RESULTS="$ROOT/bench/results/api-details.md"

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
TMP="$(mktemp -d /tmp/portico-bench.XXXXXX)"
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
    rm -rf "$TMP"
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

wait_http() { # url pid name
    local i
    for i in $(seq 1 300); do
        kill -0 "$2" 2>/dev/null || return 1
        curl -fsS -o /dev/null "$1" 2>/dev/null && return 0
        sleep 0.1
    done
    return 1
}

# --- 2. Portico --------------------------------------------------------------------------------
P_PORT="$(free_port)"
G_PORT="$(free_port)"  # the gateway listener, unused here; a free port so a busy 8081 cannot stop the run
while [ "$G_PORT" = "$P_PORT" ]; do G_PORT="$(free_port)"; done
P_URL="http://127.0.0.1:$P_PORT"
log "starting portico on $P_URL"
# Settings come from the flags only: a stray PORTICO_CONFIG / RUST_LOG would skew the run.
env -u PORTICO_CONFIG -u PORTICO_LOG_FORMAT -u RUST_LOG \
    "$TMP/portico" serve --listen "127.0.0.1:$P_PORT" --gateway-listen "127.0.0.1:$G_PORT" \
    --data-dir "$TMP/data" >"$TMP/portico.log" 2>&1 &
PORTICO_PID=$!
if ! wait_http "$P_URL/health" "$PORTICO_PID"; then
    cat "$TMP/portico.log" >&2
    die "portico did not answer GET /health"
fi

cred() { sed -n "s/^$1[[:space:]]*=[[:space:]]*\"\(.*\)\"[[:space:]]*$/\1/p" "$TMP/data/credentials.toml" | head -n1; }
PROJECT="$(cred project_id)"
INSTANCE="$(cred instance_id)"
DOMAIN="$(cred domain)"
ADMIN="$(cred admin_user)"
PASSWORD="$(cred admin_password)"
[ -n "$PROJECT" ] && [ -n "$INSTANCE" ] && [ -n "$ADMIN" ] && [ -n "$PASSWORD" ] \
    || die "cannot read credentials from $TMP/data/credentials.toml"

# call METHOD PATH [BODY] -> prints the body; fails loudly (status + body) on anything not 2xx.
call() {
    local method=$1 path=$2 body=${3:-} status
    local args=(-sS -o "$TMP/resp" -w '%{http_code}' -X "$method" -H "Content-Type: application/json")
    [ -n "${TOKEN:-}" ] && args+=(-H "X-Auth-Token: $TOKEN")
    [ -n "$body" ] && args+=(--data-binary "$body")
    status="$(curl "${args[@]}" "$P_URL$path")" || die "$method $path: curl failed"
    if [ "${status:0:1}" != 2 ]; then
        printf 'error: %s %s -> HTTP %s\n%s\n' "$method" "$path" "$status" "$(cat "$TMP/resp")" >&2
        exit 1
    fi
    cat "$TMP/resp"
}

log "getting a token (POST /v3/auth/tokens)"
auth_body="$(jq -cn --arg u "$ADMIN" --arg p "$PASSWORD" --arg d "$DOMAIN" --arg pr "$PROJECT" \
    '{auth:{identity:{methods:["password"],password:{user:{name:$u,password:$p,domain:{name:$d}}}},scope:{project:{id:$pr}}}}')"
status="$(curl -sS -D "$TMP/auth.headers" -o "$TMP/resp" -w '%{http_code}' -X POST \
    -H "Content-Type: application/json" --data-binary "$auth_body" "$P_URL/v3/auth/tokens")"
[ "${status:0:1}" = 2 ] || die "POST /v3/auth/tokens -> HTTP $status: $(cat "$TMP/resp")"
TOKEN="$(tr -d '\r' <"$TMP/auth.headers" | sed -n 's/^[Xx]-[Ss]ubject-[Tt]oken:[[:space:]]*//p' | head -n1)"
[ -n "$TOKEN" ] || die "no X-Subject-Token in the token response"

# --- 3. a realistic API ---------------------------------------------------------------------------
BASE="/v2/$PROJECT/apigw/instances/$INSTANCE"
log "creating group, environment and API; publishing"
GROUP_ID="$(call POST "$BASE/api-groups" '{"name":"bench_group"}' | jq -er .id)"
ENV_ID="$(call POST "$BASE/envs" '{"name":"bench_env"}' | jq -er .id)"
api_body="$(jq -cn --arg gid "$GROUP_ID" '
{"name": "bench_api", "type": 1, "version": "v1", "req_protocol": "HTTPS", "req_method": "GET",
 "req_uri": "/bench/{id}", "auth_type": "APP", "cors": false, "match_mode": "NORMAL", "backend_type": "HTTP",
 "group_id": $gid, "result_normal_sample": "{\"ok\": true}",
 "req_params": [{"name": "id", "type": "STRING", "location": "PATH", "required": 1, "valid_enable": 2, "remark": "item id"},
                {"name": "q", "type": "STRING", "location": "QUERY", "default_value": "x", "required": 2, "valid_enable": 2},
                {"name": "X-Trace", "type": "STRING", "location": "HEADER", "required": 2}],
 "backend_params": [{"origin": "REQUEST", "name": "bid", "location": "PATH", "value": "id"},
                    {"origin": "REQUEST", "name": "query", "location": "QUERY", "value": "q"},
                    {"origin": "CONSTANT", "name": "X-Const", "remark": "constant header", "location": "HEADER", "value": "c1"},
                    {"origin": "SYSTEM", "name": "X-Src-Ip", "location": "HEADER", "value": "sourceIp"}],
 "backend_api": {"url_domain": "backend.example.com:8080", "req_protocol": "HTTP", "req_method": "GET",
                 "req_uri": "/v1/items/{bid}", "timeout": 5000, "retry_count": "-1"}}')"
API_ID="$(call POST "$BASE/apis" "$api_body" | jq -er .id)"
call POST "$BASE/apis/action" "$(jq -cn --arg e "$ENV_ID" --arg a "$API_ID" '{action:"online",env_id:$e,api_id:$a}')" >/dev/null

DETAILS_PATH="$BASE/apis/$API_ID"
call GET "$DETAILS_PATH" >"$TMP/details.raw"
jq -e '.run_env_id != null and .run_env_id != ""' "$TMP/details.raw" >/dev/null \
    || die "the API details do not show the API as published: $(cat "$TMP/details.raw")"
BODY_BYTES="$(wc -c <"$TMP/details.raw")"

# --- 4. nginx serving the same body --------------------------------------------------------------
NGINX_WORKERS="${NGINX_WORKERS:-${TOKIO_WORKER_THREADS:-$(nproc)}}"
N_PORT="$(free_port)"
while [ "$N_PORT" = "$P_PORT" ]; do N_PORT="$(free_port)"; done
N_DIR="$TMP/nginx"
mkdir -p "$N_DIR/www" "$N_DIR/tmp"
cp "$TMP/details.raw" "$N_DIR/www/details.json"
# The workers run as nobody: let them read the file.
chmod 755 "$TMP" "$N_DIR" "$N_DIR/www"
chmod 644 "$N_DIR/www/details.json"
cat >"$N_DIR/nginx.conf" <<EOF
worker_processes $NGINX_WORKERS;
pid $N_DIR/nginx.pid;
error_log $N_DIR/error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    default_type application/json;
    sendfile on;
    tcp_nodelay on;
    keepalive_timeout 75s;
    keepalive_requests 1000000;
    client_body_temp_path $N_DIR/tmp/body;
    proxy_temp_path $N_DIR/tmp/proxy;
    fastcgi_temp_path $N_DIR/tmp/fastcgi;
    uwsgi_temp_path $N_DIR/tmp/uwsgi;
    scgi_temp_path $N_DIR/tmp/scgi;
    server {
        listen 127.0.0.1:$N_PORT;
        root $N_DIR/www;
        location / { try_files \$uri =404; }
    }
}
EOF
N_URL="http://127.0.0.1:$N_PORT/details.json"
log "starting nginx ($NGINX_WORKERS workers) on $N_URL"
"$NGINX" -e "$N_DIR/error.log" -p "$N_DIR" -c "$N_DIR/nginx.conf" -g 'daemon off;' &
NGINX_PID=$!
if ! wait_http "$N_URL" "$NGINX_PID"; then
    cat "$N_DIR/error.log" >&2 || true
    die "nginx did not serve $N_URL"
fi
curl -fsS "$N_URL" | cmp -s - "$TMP/details.raw" || die "nginx does not serve the same bytes as portico"
curl -fsS -H "X-Auth-Token: $TOKEN" "$P_URL$DETAILS_PATH" | cmp -s - "$TMP/details.raw" \
    || die "two GETs of the API details differ"

# --- 5. wrk -----------------------------------------------------------------------------------------
# wrk's --latency output has "99%  <n><us|ms|s>" and "Requests/sec: <n>".
p99_ms() {
    awk '$1 == "99%" {
        v = $2; u = v; sub(/[0-9.]+/, "", u); sub(/[a-z]+$/, "", v);
        if (u == "us") v /= 1000; else if (u == "s") v *= 1000; else if (u == "m") v *= 60000;
        printf "%.2f", v; found = 1 }
        END { if (!found) exit 1 }' "$1"
}
rps() { awk '$1 == "Requests/sec:" { printf "%.0f", $2; found = 1 } END { if (!found) exit 1 }' "$1"; }

run_wrk() { # name url [header]
    local name=$1 url=$2 header=${3:-} out="$TMP/wrk-$1.txt"
    local args=(-t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency)
    [ -n "$header" ] && args+=(-H "$header")
    # The token is a secret: log the header's name only.
    log "wrk ${args[*]:0:4}${header:+ -H '${header%%:*}: …'} $url"
    wrk "${args[@]}" "$url" | tee "$out" >&2
    if grep -q 'Non-2xx or 3xx responses' "$out"; then
        die "$name answered non-2xx responses during the run (see above)"
    fi
}

run_wrk nginx "$N_URL"
run_wrk portico "$P_URL$DETAILS_PATH" "X-Auth-Token: $TOKEN"

PORTICO_RSS_KB="$(ps -o rss= -p "$PORTICO_PID" | tr -d ' ')"
N_RPS="$(rps "$TMP/wrk-nginx.txt")"
P_RPS="$(rps "$TMP/wrk-portico.txt")"
N_P99="$(p99_ms "$TMP/wrk-nginx.txt")"
P_P99="$(p99_ms "$TMP/wrk-portico.txt")"
RPS_RATIO="$(awk -v p="$P_RPS" -v n="$N_RPS" 'BEGIN { printf "%.2f", (n > 0 ? p / n : 0) }')"
P99_RATIO="$(awk -v p="$P_P99" -v n="$N_P99" 'BEGIN { printf "%.2f", (n > 0 ? p / n : 0) }')"
RPS_OK="$(awk -v r="$RPS_RATIO" 'BEGIN { print (r >= 0.5 ? "yes" : "NO") }')"
P99_OK="$(awk -v r="$P99_RATIO" 'BEGIN { print (r <= 2.0 ? "yes" : "NO") }')"
socket_errors="$(grep -h 'Socket errors' "$TMP/wrk-nginx.txt" "$TMP/wrk-portico.txt" || true)"

DATE="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
NPROC="$(nproc)"
CPU="$(sed -n 's/^model name[[:space:]]*:[[:space:]]*//p' /proc/cpuinfo 2>/dev/null | head -n1)"
COMMIT="$(git -C "$ROOT" -c safe.directory='*' rev-parse --short HEAD 2>/dev/null || echo unknown)"
if [ "$COMMIT" != unknown ] && ! git -C "$ROOT" -c safe.directory='*' diff --quiet HEAD -- 2>/dev/null; then
    COMMIT="$COMMIT+dirty"
fi

cat <<EOF

=== GET API details: portico vs nginx (static file) ===
date            $DATE
machine         nproc=$NPROC${CPU:+, $CPU}
commit          $COMMIT
load            wrk -t$THREADS -c$CONNECTIONS -d$DURATION, body $BODY_BYTES bytes, nginx workers $NGINX_WORKERS
nginx           $N_RPS req/s, p99 $N_P99 ms
portico         $P_RPS req/s, p99 $P_P99 ms
ratio           req/s portico/nginx = $RPS_RATIO (target >= 0.5: $RPS_OK)
                p99 portico/nginx = $P99_RATIO (target <= 2: $P99_OK)
portico RSS     $PORTICO_RSS_KB KiB after the run
EOF
if [ -n "$socket_errors" ]; then printf 'socket errors   %s\n' "$socket_errors"; fi

mkdir -p "$(dirname "$RESULTS")"
if [ ! -s "$RESULTS" ]; then
    cat >"$RESULTS" <<'EOF'
| date (UTC) | commit | nproc | load | body (B) | nginx req/s | portico req/s | ratio | nginx p99 (ms) | portico p99 (ms) | p99 ratio | portico RSS (KiB) |
| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |
EOF
fi
printf '| %s | %s | %s | -t%s -c%s -d%s | %s | %s | %s | %s | %s | %s | %s | %s |\n' \
    "$DATE" "$COMMIT" "$NPROC" "$THREADS" "$CONNECTIONS" "$DURATION" "$BODY_BYTES" \
    "$N_RPS" "$P_RPS" "$RPS_RATIO" "$N_P99" "$P_P99" "$P99_RATIO" "$PORTICO_RSS_KB" >>"$RESULTS"
log "appended to ${RESULTS#"$ROOT"/}"
