#!/usr/bin/env bash
# Create (or reuse) the venv with schemathesis for tests/conformance and print its path.
#   VENV=$(scripts/conformance-venv.sh) && "$VENV/bin/schemathesis" --version
# Idempotent like scripts/sdk-venv.sh: reinstalls only when tests/conformance/requirements.txt
# changed (its sha256 is kept in the venv). Override the location with PORTICO_CONFORMANCE_VENV.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="${PORTICO_CONFORMANCE_VENV:-$repo/.venv-conformance}"
req="$repo/tests/conformance/requirements.txt"
stamp="$venv/.requirements.sha256"
want="$(sha256sum "$req" | cut -d' ' -f1)"
log() { printf 'conformance-venv: %s\n' "$*" >&2; }

if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && [ -x "$venv/bin/schemathesis" ]; then
    log "up to date ($venv)"
    printf '%s\n' "$venv"
    exit 0
fi
[ -x "$venv/bin/python" ] || { log "creating $venv"; "${PYTHON:-python3}" -m venv "$venv" >&2; }
log "installing $(grep -v '^#' "$req" | tr '\n' ' ')"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$req" >&2
printf '%s\n' "$want" >"$stamp"
printf '%s\n' "$venv"
