#!/usr/bin/env bash
# Builds the DocC documentation of RetentionMetrics with the toolchain's own `docc` (no plugin, no package
# dependency) and fails on any warning. Output: .build/docs/RetentionMetrics.doccarchive
set -euo pipefail
cd "$(dirname "$0")/.."
graphs=.build/docc-symbol-graphs
rm -rf "$graphs" .build/docs && mkdir -p "$graphs" .build/docs
swift package dump-symbol-graph --minimum-access-level public >/dev/null
cp .build/*/symbolgraph/RetentionMetrics.symbols.json "$graphs"/
docc convert Sources/RetentionMetrics/RetentionMetrics.docc \
    --additional-symbol-graph-dir "$graphs" \
    --fallback-display-name RetentionMetrics \
    --fallback-bundle-identifier org.retentionmetrics.RetentionMetrics \
    --output-path .build/docs/RetentionMetrics.doccarchive \
    --warnings-as-errors
echo "DocC archive: .build/docs/RetentionMetrics.doccarchive"
