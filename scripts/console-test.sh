#!/usr/bin/env bash
# End-to-end tests of the web console (/console/) in headless Chromium: Debian's `chromium`
# and Node.js (installed here when missing, as root), driven by playwright-core (pinned in
# tests/console/package-lock.json) against target/debug/portico on a fresh data directory and
# loopback ports it binds itself. Screenshots of the main pages land in target/console-screenshots/.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
command -v npm >/dev/null || missing+=(nodejs npm)
if [ ${#missing[@]} -gt 0 ]; then
    apt-get update
    DEBIAN_FRONTEND=noninteractive apt-get install -y "${missing[@]}"
fi
cargo build -p portico --locked
(cd tests/console && npm ci --no-audit --no-fund)
PORTICO_BIN="$PWD/target/debug/portico" node --test tests/console/
