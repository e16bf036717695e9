#!/usr/bin/env bash
# Prediction speed of a fitted `best` model: fit on the 5,000 training images of the
# MNIST-like set, then classify all 10,000 images (training and held-out) with
# `imgcluster predict`, end to end (model file, data file, every stage), 5 times.
#   bench/predict.sh [WORK_DIR]      # default: target/bench-predict
# Prints each run's wall time, the median, and the accuracy on the 10,000 images.
set -euo pipefail
cd "$(dirname "$0")/.."
work=${1:-target/bench-predict}
mkdir -p "$work"
cargo build --release --quiet -p imgcluster-cli
cargo run --release --quiet -p imgcluster --example held_out -- --write "$work" > "$work/held_out.md"
bin=target/release/imgcluster
"$bin" --quiet classify --data "$work/mnist_like_train.npy" --labels "$work/mnist_like_train_labels.npy" \
  --pipeline best --seed 1 --model-out "$work/best.bin" > /dev/null
echo "CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), $(nproc) threads"
times=()
for run in 1 2 3 4 5; do
  start=$(date +%s%N)
  "$bin" --quiet predict --model "$work/best.bin" --data "$work/mnist_like_all.npy" \
    --labels "$work/mnist_like_all_labels.npy" --json > "$work/predict.json"
  end=$(date +%s%N)
  ms=$(( (end - start) / 1000000 ))
  times+=("$ms")
  echo "run $run: $ms ms"
done
median=$(printf '%s\n' "${times[@]}" | sort -n | sed -n 3p)
accuracy=$(grep -o '"accuracy_percent":[0-9.]*' "$work/predict.json" | cut -d: -f2)
echo "predict, best model fitted on 5,000 images, 10,000 MNIST-like images: median $median ms of 5; accuracy $accuracy%"

# Loading a big model: `best` fitted on 60,000 28x28 images (the benchmark's jittered digits
# of examples/make_workload.rs), then the model-loading time that `predict --json` reports
# (timings_ms.model), 5 times.
cargo run --release --quiet -p imgcluster --example make_workload -- 60000 "$work" > /dev/null
"$bin" --quiet classify --data "$work/digits_60000.npy" --labels "$work/digits_60000_labels.npy" \
  --pipeline best --seed 1 --model-out "$work/best60k.bin" > /dev/null
loads=()
for run in 1 2 3 4 5; do
  "$bin" --quiet predict --model "$work/best60k.bin" --data "$work/mnist_like_test.npy" --json \
    > "$work/predict60k.json"
  loads+=("$(grep -o '"model":[0-9][0-9.]*' "$work/predict60k.json" | cut -d: -f2 | cut -d. -f1)")
done
size=$(( $(stat -c %s "$work/best60k.bin") / 1000000 ))
echo "load, best model fitted on 60,000 images ($size MB): median $(printf '%s\n' "${loads[@]}" | sort -n | sed -n 3p) ms of 5"
