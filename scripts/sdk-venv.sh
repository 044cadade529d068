#!/usr/bin/env bash
# Create (or reuse) the Python venv for the SDK end-to-end suite and print its path.
#
#   scripts/sdk-venv.sh            -> <repo>/.venv-sdk  (path printed on stdout, logs on stderr)
#   VENV=$(scripts/sdk-venv.sh) && "$VENV/bin/pytest" tests/sdk -q
#
# Idempotent: packages are (re)installed only when tests/sdk/requirements.txt changed since the last
# successful install (sha256 kept in a stamp file inside the venv). Override the location with
# PORTICO_SDK_VENV and the interpreter with PYTHON (default python3, needs >= 3.11 for tomllib).
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="${PORTICO_SDK_VENV:-$repo/.venv-sdk}"
req="$repo/tests/sdk/requirements.txt"
stamp="$venv/.requirements.sha256"
python="${PYTHON:-python3}"

log() { printf 'sdk-venv: %s\n' "$*" >&2; }

[ -f "$req" ] || { log "missing $req"; exit 1; }

# tests/sdk/test_tls.py makes its certificate authority with the openssl command.
if ! command -v openssl >/dev/null; then
  log "installing openssl"
  apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openssl >&2
fi
want="$(sha256sum "$req" | cut -d' ' -f1)"

if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && [ -x "$venv/bin/python" ] \
   && "$venv/bin/python" -c 'import huaweicloudsdkapig, huaweicloudsdkiam, pytest' 2>/dev/null; then
  log "up to date ($venv)"
  printf '%s\n' "$venv"
  exit 0
fi

if ! "$python" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)'; then
  log "$python is older than 3.11 (tomllib is needed); set PYTHON=/path/to/python3.11+"
  exit 1
fi

if [ ! -x "$venv/bin/python" ]; then
  log "creating $venv"
  if ! "$python" -m venv "$venv" >&2; then
    rm -rf "$venv"
    log "python3 -m venv failed (on Debian/Ubuntu: apt-get install python3-venv)"
    exit 1
  fi
fi

rm -f "$stamp"
log "installing $(basename "$req")"
"$venv/bin/python" -m pip install --disable-pip-version-check --no-input -q -r "$req" >&2
printf '%s\n' "$want" >"$stamp"
log "ready ($venv)"
printf '%s\n' "$venv"
