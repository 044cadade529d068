#!/usr/bin/env bash
# Runs every test Portico has: formatting and lints, the Rust unit and integration tests
# (real SQLite files, real HTTP on loopback), then the official Huawei Cloud Python SDK suite
# against the real `portico` binary. Installs what it needs (the SDK venv) by itself.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

step() { printf '\n==> %s\n' "$*"; }

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "cargo test"
cargo test --workspace --locked

step "SDK suite (huaweicloudsdkapig against target/debug/portico)"
cargo build -p portico --locked
venv="$(bash scripts/sdk-venv.sh)"
PORTICO_BIN="$PWD/target/debug/portico" "$venv/bin/python" -m pytest tests/sdk -q -p no:cacheprovider
