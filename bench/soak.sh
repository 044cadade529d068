#!/usr/bin/env bash
# Soak (not a test): a release `portico serve` on a fresh data directory, in front of an nginx
# backend on loopback, under 200 concurrent connections for DURATION: half on the management API
# (IAM token; nine reads to one write, bench/soak/management.lua), half on the data plane
# (three proxied calls with a path parameter to one mock, bench/soak/gateway.lua). The server's
# RSS is sampled every SAMPLE seconds; the report gives the errors (non-2xx answers, socket
# errors, timeouts: target 0) and the RSS growth from the end of the warm-up to the end (target
# < 10 %). See RELIABILITY.md, "Soak".
#
#   nice -n 10 bash bench/soak.sh                 # 10 minutes, as recorded
#   DURATION=60 WARMUP=15 bash bench/soak.sh      # a quick check
#
# Environment: DURATION (seconds of load, default 600), WARMUP (seconds, default 60: RSS
# growth is measured from the first sample after it), SAMPLE (seconds, default 5),
# MANAGEMENT_CONNECTIONS / GATEWAY_CONNECTIONS (default 100 each), SKIP_BUILD=1 (use the
# existing binary), PORTICO_BIN (the binary, default target/release/portico; implies
# SKIP_BUILD), KEEP=1 (keep the work directory with the logs and samples).
# Runs as root on Debian; installs nginx, wrk, curl and jq with apt-get when missing.
set -euo pipefail

DURATION="${DURATION:-600}"
WARMUP="${WARMUP:-60}"
SAMPLE="${SAMPLE:-5}"
MANAGEMENT_CONNECTIONS="${MANAGEMENT_CONNECTIONS:-100}"
GATEWAY_CONNECTIONS="${GATEWAY_CONNECTIONS:-100}"
[ "$WARMUP" -lt "$DURATION" ] || { echo "error: WARMUP must be shorter than DURATION" >&2; exit 1; }

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
log() { printf '==> %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# --- tools ---------------------------------------------------------------------------------------
missing=()
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || missing+=(nginx)
for tool in wrk curl jq; do command -v "$tool" >/dev/null 2>&1 || missing+=("$tool"); done
if [ "${#missing[@]}" -gt 0 ]; then
    [ "$(id -u)" -eq 0 ] || die "missing ${missing[*]}; run as root or install them with apt-get"
    log "installing ${missing[*]} (apt-get)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update
    apt-get install -y "${missing[@]}"
fi
NGINX="$(command -v nginx || echo /usr/sbin/nginx)"
if [ -z "${PORTICO_BIN:-}" ] && [ "${SKIP_BUILD:-0}" != 1 ]; then
    log "building portico (cargo build --release -p portico)"
    (cd "$ROOT" && cargo build --release -p portico)
fi
PORTICO_BIN="${PORTICO_BIN:-$ROOT/target/release/portico}"
[ -x "$PORTICO_BIN" ] || die "$PORTICO_BIN not found"

# --- cleanup, even on failure ---------------------------------------------------------------------
TMP="$(mktemp -d /tmp/portico-soak.XXXXXX)"
PIDS=()
cleanup() {
    local rc=$? pid
    trap - EXIT INT TERM
    for pid in "${PIDS[@]}"; do
        if kill -0 "$pid" 2>/dev/null; then
            kill "$pid" 2>/dev/null || true
            wait "$pid" 2>/dev/null || true
        fi
    done
    if [ "${KEEP:-0}" = 1 ]; then log "kept $TMP"; else rm -rf "$TMP"; fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
cp "$PORTICO_BIN" "$TMP/portico"

free_port() {
    local port i
    for i in $(seq 1 200); do
        port=$((20000 + RANDOM % 40000))
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then echo "$port"; return 0; fi
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

# --- the backend: nginx serving 1 KB -------------------------------------------------------------
B_PORT="$(free_port)"
N_DIR="$TMP/nginx"
mkdir -p "$N_DIR/www/items" "$N_DIR/tmp"
head -c 1024 /dev/zero | tr '\0' 'x' >"$N_DIR/www/item.txt"
chmod 755 "$TMP" "$N_DIR" "$N_DIR/www"
chmod 644 "$N_DIR/www/item.txt"
cat >"$N_DIR/nginx.conf" <<CONF
worker_processes 1;
pid $N_DIR/nginx.pid;
error_log $N_DIR/error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    keepalive_requests 1000000;
    client_body_temp_path $N_DIR/tmp/body;
    proxy_temp_path $N_DIR/tmp/proxy;
    fastcgi_temp_path $N_DIR/tmp/fastcgi;
    uwsgi_temp_path $N_DIR/tmp/uwsgi;
    scgi_temp_path $N_DIR/tmp/scgi;
    server {
        listen 127.0.0.1:$B_PORT;
        root $N_DIR/www;
        location /items/ { try_files /item.txt =404; }
    }
}
CONF
"$NGINX" -e "$N_DIR/error.log" -p "$N_DIR" -c "$N_DIR/nginx.conf" -g 'daemon off;' &
PIDS+=($!)
wait_http "http://127.0.0.1:$B_PORT/items/1" "${PIDS[-1]}" || die "nginx did not start"

# --- Portico ---------------------------------------------------------------------------------------
P_PORT="$(free_port)"
G_PORT="$(free_port)"
while [ "$G_PORT" = "$P_PORT" ] || [ "$G_PORT" = "$B_PORT" ]; do G_PORT="$(free_port)"; done
P_URL="http://127.0.0.1:$P_PORT"
log "starting portico: management $P_URL, gateway :$G_PORT, backend :$B_PORT"
env -u PORTICO_CONFIG -u PORTICO_LOG_FORMAT RUST_LOG="warn" \
    "$TMP/portico" serve --listen "127.0.0.1:$P_PORT" --gateway-listen "127.0.0.1:$G_PORT" \
    --data-dir "$TMP/data" >>"$TMP/portico.log" 2>&1 &
PORTICO_PID=$!
PIDS+=("$PORTICO_PID")
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
log "creating and publishing the APIs"
GROUP="$(call POST "$BASE/api-groups" '{"name":"soak_group"}')"
GROUP_ID="$(jq -er .id <<<"$GROUP")"
HOST="$(jq -er .sl_domain <<<"$GROUP")"
publish() { call POST "$BASE/apis/action" "$(jq -cn --arg a "$1" '{action:"online",env_id:"DEFAULT_ENVIRONMENT_RELEASE_ID",api_id:$a}')" >/dev/null; }
API_ID="$(call POST "$BASE/apis" "$(jq -cn --arg gid "$GROUP_ID" --arg backend "127.0.0.1:$B_PORT" '
{"name": "soak_proxy", "type": 1, "req_protocol": "HTTP", "req_method": "GET", "req_uri": "/soak/items/{id}",
 "auth_type": "NONE", "backend_type": "HTTP", "group_id": $gid,
 "req_params": [{"name": "id", "type": "STRING", "location": "PATH", "required": 1}],
 "backend_params": [{"name": "id", "location": "PATH", "origin": "REQUEST", "value": "id"}],
 "backend_api": {"url_domain": $backend, "req_protocol": "HTTP", "req_method": "GET",
                 "req_uri": "/items/{id}", "timeout": 5000}}')" | jq -er .id)"
publish "$API_ID"
MOCK_ID="$(call POST "$BASE/apis" "$(jq -cn --arg gid "$GROUP_ID" '
{"name": "soak_mock", "type": 1, "req_protocol": "HTTP", "req_method": "GET", "req_uri": "/soak/mock",
 "auth_type": "NONE", "backend_type": "MOCK", "group_id": $gid,
 "mock_info": {"result_content": "{\"soak\": true}"}}')" | jq -er .id)"
publish "$MOCK_ID"
for path in "/soak/items/1" "/soak/mock"; do
    wait_http "http://127.0.0.1:$G_PORT$path" "$PORTICO_PID" -H "Host: $HOST" || die "the gateway does not serve $path"
done
export SOAK_BASE="$BASE" SOAK_TOKEN="$TOKEN" SOAK_GROUP_ID="$GROUP_ID" SOAK_API_ID="$API_ID" SOAK_HOST="$HOST"
# Every request of the mix once, so a wrong path fails here and not as errors in the report.
for path in "apis?limit=20" "apis/$API_ID" "api-groups/$GROUP_ID" "api-groups?limit=10" "envs" \
    "apis?limit=5&offset=1" "apis/publish/$API_ID"; do
    call GET "$BASE/$path" >/dev/null
done
call PUT "$BASE/api-groups/$GROUP_ID" '{"name":"soak_group","remark":"soak write 0"}' >/dev/null

# --- load and samples ------------------------------------------------------------------------------
rss() { awk -v key="$1:" '$1 == key { print $2 }' "/proc/$PORTICO_PID/status"; }
log "load: ${MANAGEMENT_CONNECTIONS} management + ${GATEWAY_CONNECTIONS} gateway connections for ${DURATION}s"
wrk -t1 -c"$MANAGEMENT_CONNECTIONS" -d"${DURATION}s" --timeout 30s -s "$ROOT/bench/soak/management.lua" \
    "$P_URL" >"$TMP/wrk-management.txt" 2>&1 &
WRK_M=$!
PIDS+=("$WRK_M")
wrk -t1 -c"$GATEWAY_CONNECTIONS" -d"${DURATION}s" --timeout 30s -s "$ROOT/bench/soak/gateway.lua" \
    "http://127.0.0.1:$G_PORT" >"$TMP/wrk-gateway.txt" 2>&1 &
WRK_G=$!
PIDS+=("$WRK_G")
START="$(date +%s)"
echo "seconds vm_rss_kib rss_anon_kib" >"$TMP/rss.txt"
while kill -0 "$WRK_M" 2>/dev/null || kill -0 "$WRK_G" 2>/dev/null; do
    kill -0 "$PORTICO_PID" 2>/dev/null || die "portico exited during the soak: $(tail -n 20 "$TMP/portico.log")"
    echo "$(($(date +%s) - START)) $(rss VmRSS) $(rss RssAnon)" >>"$TMP/rss.txt"
    sleep "$SAMPLE"
done
wait "$WRK_M" || die "wrk (management) failed: $(cat "$TMP/wrk-management.txt")"
wait "$WRK_G" || die "wrk (gateway) failed: $(cat "$TMP/wrk-gateway.txt")"
# No sample after the load: the allocator hands memory back once it stops, which would hide growth.

# --- report ------------------------------------------------------------------------------------------
requests() { awk '/requests in/ { print $1 }' "$1"; }
rps() { awk '$1 == "Requests/sec:" { printf "%.0f", $2 }' "$1"; }
non2xx() { awk '/Non-2xx or 3xx responses:/ { n = $NF } END { print n + 0 }' "$1"; }
socket_errors() { # connect + read + write + timeout
    awk '/Socket errors:/ { gsub(",", ""); n = $4 + $6 + $8 + $10 } END { print n + 0 }' "$1"
}
M_ERR=$(($(non2xx "$TMP/wrk-management.txt") + $(socket_errors "$TMP/wrk-management.txt")))
G_ERR=$(($(non2xx "$TMP/wrk-gateway.txt") + $(socket_errors "$TMP/wrk-gateway.txt")))
growth() { # column: RSS growth from the first sample at or after WARMUP to the last, in percent
    awk -v w="$WARMUP" -v c="$1" 'NR > 1 { if (base == "" && $1 >= w) base = $c; if ($c > max) max = $c; last = $c }
        END { printf "%s %s %s %.1f", base, last, max, (last - base) * 100 / base }' "$TMP/rss.txt"
}
read -r RSS_BASE RSS_END RSS_MAX RSS_GROWTH <<<"$(growth 2)"
read -r ANON_BASE ANON_END ANON_MAX ANON_GROWTH <<<"$(growth 3)"
TOTAL_ERR=$((M_ERR + G_ERR))
ERR_OK="$([ "$TOTAL_ERR" -eq 0 ] && echo yes || echo NO)"
GROWTH_OK="$(awk -v g="$RSS_GROWTH" 'BEGIN { print (g < 10 ? "yes" : "NO") }')"
COMMIT="$(git -C "$ROOT" -c safe.directory='*' rev-parse --short HEAD 2>/dev/null || echo unknown)"
if [ "$COMMIT" != unknown ] && ! git -C "$ROOT" -c safe.directory='*' diff --quiet HEAD -- 2>/dev/null; then
    COMMIT="$COMMIT+dirty"
fi
cat <<REPORT

=== soak: management API + data plane together ===
date            $(date -u +%Y-%m-%dT%H:%M:%SZ)
commit          $COMMIT
binary          ${PORTICO_BIN#"$ROOT"/}
machine         nproc=$(nproc)
load            ${DURATION}s, ${MANAGEMENT_CONNECTIONS} management + ${GATEWAY_CONNECTIONS} gateway connections (wrk -t1 each)
management      $(requests "$TMP/wrk-management.txt") requests, $(rps "$TMP/wrk-management.txt") req/s, $M_ERR errors
gateway         $(requests "$TMP/wrk-gateway.txt") requests, $(rps "$TMP/wrk-gateway.txt") req/s, $G_ERR errors
errors          $TOTAL_ERR (non-2xx + socket errors; target 0: $ERR_OK)
VmRSS           $RSS_BASE KiB after ${WARMUP}s warm-up -> $RSS_END KiB at the end (max $RSS_MAX): ${RSS_GROWTH}% (target < 10%: $GROWTH_OK)
RssAnon         $ANON_BASE KiB -> $ANON_END KiB (max $ANON_MAX): ${ANON_GROWTH}%
REPORT
if [ "$TOTAL_ERR" -ne 0 ]; then
    log "wrk output:"
    cat "$TMP/wrk-management.txt" "$TMP/wrk-gateway.txt" >&2
    log "last server log lines:"
    tail -n 20 "$TMP/portico.log" >&2
fi
