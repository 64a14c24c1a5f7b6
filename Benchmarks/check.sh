#!/usr/bin/env bash
# Runs every benchmark (release build) and checks its p90 against the committed thresholds in Benchmarks/Thresholds,
# with the tolerances written in the benchmarks (Tolerance.standard: 2x on CPU time, 3x on wall clock, 2% on
# malloc counts). Run it on a machine without other builds going on: timings under a concurrent compile are not
# comparable.
# Exits non-zero on a regression or a failed run; a run better than the thresholds passes (and says so).
#
#   Benchmarks/check.sh                       # all benchmarks, about 1.5 minutes on 2 cores once built
#   Benchmarks/check.sh --filter "Load.*"     # extra options go to `swift package benchmark thresholds check`
#
# After an intended change, record new thresholds and commit Benchmarks/Thresholds:
#   swift package --package-path Benchmarks --allow-writing-to-package-directory benchmark thresholds update \
#       --path Thresholds
set -uo pipefail
cd "$(dirname "$0")"

log=$(mktemp)
trap 'rm -f "$log"' EXIT
swift package benchmark thresholds check --path Thresholds --no-progress "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}

# The plugin exits 1 for both "worse" and "better" (the tool's own codes are 2 and 4), so read its verdict.
if [ "$status" -eq 0 ]; then
    echo "check.sh: every benchmark is within its thresholds."
elif grep -q "is WORSE than the defined thresholds" "$log"; then
    echo "check.sh: REGRESSION: at least one benchmark is worse than its threshold (tables above)." >&2
    exit 2
elif grep -q "is BETTER than the defined thresholds" "$log"; then
    echo "check.sh: benchmarks are BETTER than the thresholds: a pass. Record the gain with thresholds update."
else
    echo "check.sh: the benchmark run failed (exit $status)." >&2
    exit "$status"
fi
