#!/usr/bin/env bash
# Builds the Debian package of `portico` and prints its path (logs on stderr).
#
#   bash scripts/package.sh                  -> target/debian/portico_<version>-1_<arch>.deb
#   bash scripts/package.sh --profile dev --no-build   (any cargo-deb flag is passed on)
#
# cargo-deb comes from crates.io at the pinned version below, built once into .tools/ (the
# repository's own tool directory, ignored by git; override with PORTICO_TOOLS). What goes into
# the package (binary, systemd unit, maintainer scripts, configuration) is declared in
# crates/cli/Cargo.toml under [package.metadata.deb]; docs/packaging.md describes it.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

cargo_deb_version=3.8.0
tools="${PORTICO_TOOLS:-$PWD/.tools}"
cargo_deb="$tools/cargo-deb-$cargo_deb_version/bin/cargo-deb"

if [ ! -x "$cargo_deb" ]; then
    echo "package: installing cargo-deb $cargo_deb_version into $tools" >&2
    cargo install --quiet --locked --root "$tools/cargo-deb-$cargo_deb_version" --version "$cargo_deb_version" cargo-deb >&2
fi

# cargo-deb prints the package's path on stdout, its progress on stderr.
"$cargo_deb" --package portico --locked "$@"
