#!/usr/bin/env bash
# A throwaway PostgreSQL for the tests: `source scripts/postgres.sh` starts a cluster on a free
# loopback port (installing Debian's postgresql package when it is missing and we are root),
# exports PORTICO_TEST_POSTGRES=postgres://postgres@127.0.0.1:PORT/postgres, and stops and
# removes the cluster when the sourcing shell exits. Returns non-zero when no PostgreSQL can be
# started, so callers decide whether that is fatal (CI) or a loud skip (a local run).

portico_pg_start() {
    local pgbin
    pgbin="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1)"
    if [ -z "$pgbin" ] || [ ! -x "$pgbin/initdb" ]; then
        if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
            echo "==> installing PostgreSQL (Debian package)" >&2
            DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null &&
                DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null || return 1
            pgbin="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1)"
        else
            return 1
        fi
    fi
    local run=()
    # initdb refuses to run as root.
    if [ "$(id -u)" -eq 0 ]; then run=(runuser -u postgres --); fi
    PORTICO_PG_DIR="$(mktemp -d /tmp/portico-pg.XXXXXX)"
    [ "$(id -u)" -eq 0 ] && chown postgres: "$PORTICO_PG_DIR"
    local port
    port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
    "${run[@]}" "$pgbin/initdb" -D "$PORTICO_PG_DIR/data" -U postgres -A trust --no-sync -E UTF8 >/dev/null || return 1
    "${run[@]}" "$pgbin/pg_ctl" -D "$PORTICO_PG_DIR/data" -l "$PORTICO_PG_DIR/log" -w \
        -o "-p $port -k $PORTICO_PG_DIR -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=400" \
        start >/dev/null || return 1
    PORTICO_PG_STOP=("${run[@]}" "$pgbin/pg_ctl" -D "$PORTICO_PG_DIR/data" -m immediate -w stop)
    export PORTICO_TEST_POSTGRES="postgres://postgres@127.0.0.1:$port/postgres"
    echo "==> PostgreSQL on 127.0.0.1:$port ($PORTICO_PG_DIR)" >&2
}

portico_pg_stop() {
    if [ -n "${PORTICO_PG_DIR:-}" ]; then
        "${PORTICO_PG_STOP[@]}" >/dev/null 2>&1 || true
        rm -rf "$PORTICO_PG_DIR"
        unset PORTICO_PG_DIR PORTICO_TEST_POSTGRES
    fi
}
