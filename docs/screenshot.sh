#!/usr/bin/env bash
# Renders the tutorial's HTML report and screenshots it to docs/report.png with headless
# Chromium (on Debian: apt-get install chromium). HEIGHT sets the page height (default 2400),
# CHROMIUM the browser command (default chromium).
set -euo pipefail
cd "$(dirname "$0")/.."

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cargo run --release --quiet -p imgcluster-cli -- --quiet tutorial --out "$work/out" > /dev/null
"${CHROMIUM:-chromium}" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --hide-scrollbars --user-data-dir="$work/profile" \
    --window-size="1280,${HEIGHT:-2400}" --screenshot="$PWD/docs/report.png" \
    "file://$work/out/report.html" 2> "$work/chromium.log" || {
    cat "$work/chromium.log" >&2
    exit 1
}
echo "wrote docs/report.png"
