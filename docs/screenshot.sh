#!/usr/bin/env bash
# Renders the HTML reports and screenshots them with headless Chromium (on Debian:
# apt-get install chromium): the tutorial's report to docs/report.png, the best pipeline's
# (fitted on half the digits) to docs/best_report.png, and the report of its model's
# predictions on the other half to docs/predict_report.png. HEIGHT sets the page height
# (default 2400), CHROMIUM the browser command (default chromium).
set -euo pipefail
cd "$(dirname "$0")/.."

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cargo build --release --quiet -p imgcluster-cli
bin=$PWD/target/release/imgcluster
(
    cd "$work"
    "$bin" --quiet tutorial --out out > /dev/null
    "$bin" --quiet classify --pipeline best --seed 1 --train-ratio 0.5 \
        --model-out best.bin --report best.html > /dev/null
    "$bin" --quiet features --features raw --train-ratio 0.5 \
        --out rest.npy --labels-out rest_labels.npy > /dev/null
    "$bin" --quiet predict --model best.bin --data rest.npy \
        --labels rest_labels.npy --report predict.html > /dev/null
)

shot() {
    "${CHROMIUM:-chromium}" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
        --disable-background-networking --disable-component-update --disable-sync \
        --hide-scrollbars --user-data-dir="$work/profile" \
        --window-size="1280,${HEIGHT:-2400}" --screenshot="$PWD/docs/$2" \
        "file://$1" 2> "$work/chromium.log" || {
        cat "$work/chromium.log" >&2
        exit 1
    }
    echo "wrote docs/$2"
}
shot "$work/out/report.html" report.png
shot "$work/best.html" best_report.png
shot "$work/predict.html" predict_report.png
