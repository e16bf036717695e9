#!/usr/bin/env bash
# Fuzz every loader with libFuzzer (cargo fuzz, stable toolchain, no sanitizer).
#   fuzz/run.sh            # each target for 10 s: the smoke run CI does
#   fuzz/run.sh 600        # each target for 10 minutes
#   fuzz/run.sh 60 npy     # one target
# New inputs go to a scratch folder; the seed corpora in fuzz/corpus stay as committed.
set -euo pipefail
cd "$(dirname "$0")"
seconds=${1:-10}
shift || true
if ! cargo fuzz --version >/dev/null 2>&1; then
  cargo install cargo-fuzz --locked
fi
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  mapfile -t targets < <(cargo fuzz list)
fi
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
cargo fuzz build --sanitizer none "${targets[@]/#/}" 2>/dev/null || cargo fuzz build --sanitizer none
for t in "${targets[@]}"; do
  mkdir -p "$scratch/$t" "corpus/$t"
  echo "== fuzzing $t for ${seconds}s"
  cargo fuzz run --sanitizer none "$t" "$scratch/$t" "corpus/$t" -- \
    -max_total_time="$seconds" -rss_limit_mb=2048 -malloc_limit_mb=1024 -print_final_stats=1 2>&1 \
    | grep -E "^(Done|stat::number_of_executed_units|#[0-9]+ *DONE)|panicked|ERROR|SUMMARY" || true
  if [ -d "artifacts/$t" ] && [ -n "$(ls -A "artifacts/$t" 2>/dev/null)" ]; then
    echo "fuzz: $t found crashing inputs in fuzz/artifacts/$t" >&2
    exit 1
  fi
done
echo "fuzz: no crash in ${#targets[@]} targets"
