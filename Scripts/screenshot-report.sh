#!/usr/bin/env bash
# Renders the HTML report of the bundled sample (Examples/Data/sample-orders.csv, the README's main job with
# --format html) and takes a PNG screenshot of it with headless Chromium.
#
#   Scripts/screenshot-report.sh [out.png] [report.html]
#
# With a report.html argument, that page is shot instead (e.g. the synthetic two-year shop of the opt-in test
# HTMLReportTests/twoYearsOfASyntheticShop: RETENTION_WRITE_HTML=<path> swift test --filter ...). Installs
# Chromium with apt-get when it is missing (Debian's package is `chromium`; needs root). WINDOW_SIZE overrides the
# viewport, default 1400,3200 (the whole report).
set -euo pipefail

cd "$(dirname "$0")/.."
out="${1:-/tmp/retention-report.png}"
html="${2:-}"
window="${WINDOW_SIZE:-1400,3200}"

browser=""
for candidate in chromium chromium-browser google-chrome; do
    if command -v "$candidate" >/dev/null 2>&1; then browser="$candidate"; break; fi
done
if [ -z "$browser" ]; then
    echo "Chromium not found; installing the Debian package 'chromium'" >&2
    if [ "$(id -u)" -ne 0 ]; then sudo=sudo; else sudo=""; fi
    $sudo apt-get update
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y --no-install-recommends chromium fonts-dejavu-core
    browser=chromium
fi

if [ -z "$html" ]; then
    html="$(mktemp /tmp/retention-report-XXXXXX.html)"
    swift run --package-path Examples/RetentionCLI -c release retention report Examples/Data/sample-orders.csv \
        --from 2024-07-01 --format html > "$html"
fi
html="$(cd "$(dirname "$html")" && pwd)/$(basename "$html")"
[ -s "$html" ] || { echo "no HTML at $html" >&2; exit 1; }

# --hide-scrollbars keeps the overflow bars of wide charts out of the picture.
"$browser" --headless --no-sandbox --disable-gpu --hide-scrollbars --screenshot="$out" \
    --window-size="$window" "file://$html" 2>/dev/null
echo "$html -> $out"
