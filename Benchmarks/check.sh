#!/usr/bin/env bash
# Runs every benchmark (release build) and checks its p90 against the committed thresholds in Benchmarks/Thresholds,
# with the tolerances written in the benchmarks (Tolerance.standard: 2x on wall clock, half on throughput, 2% on
# malloc counts). Exits non-zero on a regression; a run better than the thresholds passes (and says so).
#
#   Benchmarks/check.sh                       # all benchmarks, about 2-4 minutes on 2 cores
#   Benchmarks/check.sh --filter "Load.*"     # extra options go to `swift package benchmark thresholds check`
#
# After an intended change, record new thresholds (and commit Benchmarks/Thresholds):
#   swift package --package-path Benchmarks --allow-writing-to-package-directory benchmark thresholds update
set -uo pipefail
cd "$(dirname "$0")"

swift package benchmark thresholds check --path Thresholds --no-progress "$@"
status=$?
case $status in
    0) echo "check.sh: benchmarks are within the thresholds." ;;
    4) echo "check.sh: benchmarks are BETTER than the thresholds (within tolerance counts as a pass)."
       echo "          Consider recording the gain: swift package --allow-writing-to-package-directory benchmark thresholds update --path Thresholds"
       status=0 ;;
    2) echo "check.sh: REGRESSION: at least one benchmark is worse than its threshold (see the table above)." >&2 ;;
    *) echo "check.sh: the benchmark run failed (exit $status)." >&2 ;;
esac
exit $status
