#!/usr/bin/env bash
# Builds the cargo-fuzz targets under fuzz/ and runs each for a bounded time on its seed corpus
# (fuzz/seeds/TARGET), failing on the first crash; libFuzzer leaves the input that crashed in
# fuzz/artifacts/TARGET/. Installs cargo-fuzz (from crates.io) when missing.
#
#   bash scripts/fuzz.sh                       # every target, 20 s each (what CI runs)
#   RELEASE=1 SECONDS_EACH=600 bash scripts/fuzz.sh routes import   # optimised, for long runs
#   CORPUS=/tmp/corpus bash scripts/fuzz.sh    # keep what the runs find in /tmp/corpus/TARGET
#
# Only a stable toolchain is installed here: RUSTC_BOOTSTRAP=1 lets it take the nightly flags
# cargo-fuzz passes. No sanitizer (`-s none`): the code is safe Rust and the hunt is for
# panics, hangs and broken properties; AddressSanitizer would only make every run slower.
# CI's short runs build unoptimised (`--dev`: about 4 minutes on 2 idle cores, against several
# times that optimised; debug assertions catch overflows too); RELEASE=1 builds optimised, with 16
# codegen units (about half the build time of 1), for the long runs RELIABILITY.md records.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

SECONDS_EACH="${SECONDS_EACH:-20}"
TARGETS=("$@")
[ "${#TARGETS[@]}" -gt 0 ] || TARGETS=(import multipart signature routes)

if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "==> installing cargo-fuzz (cargo install cargo-fuzz --locked)" >&2
    cargo install cargo-fuzz --locked
fi
export RUSTC_BOOTSTRAP=1
if [ "${RELEASE:-}" = 1 ]; then
    FLAGS=(-s none --codegen-units 16)
else
    FLAGS=(-s none --dev)
fi

echo "==> cargo fuzz build" >&2
(cd fuzz && cargo fuzz build "${FLAGS[@]}")

WORK="$(mktemp -d /tmp/portico-fuzz.XXXXXX)"
trap 'rm -rf "$WORK"' EXIT
for target in "${TARGETS[@]}"; do
    corpus="${CORPUS:-$WORK}/$target"
    mkdir -p "$corpus"
    echo "==> fuzz $target for ${SECONDS_EACH}s (corpus $corpus + fuzz/seeds/$target)" >&2
    # A new corpus directory first: libFuzzer adds what it finds there, never to the seeds.
    (cd fuzz && cargo fuzz run "${FLAGS[@]}" "$target" "$corpus" "seeds/$target" -- \
        -max_total_time="$SECONDS_EACH" -timeout=10 -print_final_stats=1) 2>"$WORK/$target.log" \
        || { tail -n 60 "$WORK/$target.log" >&2; echo "error: fuzz target $target failed" >&2; exit 1; }
    awk -v t="$target" -v n="$(find "$corpus" -type f | wc -l)" '
        /^stat::number_of_executed_units:/ { runs = $2 }
        /^stat::average_exec_per_sec:/ { rate = $2 }
        END { printf "fuzz %-10s %s runs, %s exec/s, corpus %s new inputs, 0 crashes\n", t, runs, rate, n }' "$WORK/$target.log"
done
