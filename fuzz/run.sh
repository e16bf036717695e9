#!/usr/bin/env bash
# Fuzz every loader with libFuzzer (cargo fuzz, stable toolchain, no sanitizer).
#   fuzz/run.sh            # each target for 10 s: the smoke run CI does
#   fuzz/run.sh 600        # each target for 10 minutes
#   fuzz/run.sh 60 npy     # one target
# Every target runs even when an earlier one fails; the summary lists them all, and the
# script fails if any found a crashing input (saved in fuzz/artifacts/<target>).
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
cargo fuzz build --sanitizer none "${targets[@]}" 2>/dev/null || cargo fuzz build --sanitizer none
# No sanitizer hooks malloc, so -malloc_limit_mb alone does nothing: the targets' own
# allocator (fuzz_targets/limit.rs) aborts on any single allocation above this.
export FUZZ_MALLOC_LIMIT_MB=1024
failed=()
summary=()
artifacts() { if [ -d "artifacts/$1" ]; then find "artifacts/$1" -type f | wc -l; else echo 0; fi; }
for t in "${targets[@]}"; do
  mkdir -p "$scratch/$t" "corpus/$t"
  before=$(artifacts "$t")
  echo "== fuzzing $t for ${seconds}s"
  log="$scratch/$t.log"
  status=0
  cargo fuzz run --sanitizer none "$t" "$scratch/$t" "corpus/$t" -- \
    -max_total_time="$seconds" -rss_limit_mb=2048 -malloc_limit_mb="$FUZZ_MALLOC_LIMIT_MB" \
    -timeout=20 -print_final_stats=1 >"$log" 2>&1 || status=$?
  grep -E "^(Done|stat::number_of_executed_units)|panicked|ERROR|SUMMARY" "$log" || true
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1 || true)
  after=$(artifacts "$t")
  if [ "$status" -ne 0 ] || [ "$after" -gt "$before" ]; then
    failed+=("$t")
    summary+=("$t: FAILED after ${runs:-?} runs (exit $status; inputs in fuzz/artifacts/$t)")
  else
    summary+=("$t: ${runs:-?} runs in ${seconds}s, no crash")
  fi
done
echo "== fuzz summary"
printf '%s\n' "${summary[@]}"
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz: ${#failed[@]} of ${#targets[@]} targets failed: ${failed[*]}" >&2
  exit 1
fi
echo "fuzz: no crash in ${#targets[@]} targets"
