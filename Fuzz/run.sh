#!/usr/bin/env bash
# Builds one libFuzzer harness and runs it for a number of seconds over its corpus.
#
#     Fuzz/run.sh csv 600          # harnesses: csv, timestamp, amount, json
#     Fuzz/run.sh amount 60 -jobs=1 ...   (extra arguments go to libFuzzer)
#
# The library sources are compiled straight into the harness's module (no SwiftPM; the one C module, a prefetch
# hint, is found through its module map with -I), with
# `-sanitize=fuzzer,address`. New inputs found go to a scratch corpus under .build/fuzz/ (the committed seed corpus
# in Fuzz/Corpus/<harness>/ is read, not written); crashes are written to .build/fuzz/<harness>-crashes/.
# Prints the executions run and the crashes found on the last line.
set -euo pipefail
cd "$(dirname "$0")/.."
harness="${1:?usage: Fuzz/run.sh csv|timestamp|amount|json seconds [libFuzzer args]}"
seconds="${2:-60}"
shift 2 || true

case "$harness" in
    csv) file=CSVHarness.swift; storage=1 ;;
    json) file=JSONHarness.swift; storage=1 ;;
    timestamp) file=TimestampHarness.swift; storage=0 ;;
    amount) file=AmountHarness.swift; storage=0 ;;
    *) echo "unknown harness $harness" >&2; exit 2 ;;
esac

sources=(Sources/RetentionMetrics/*.swift)
if [ "$storage" = 1 ]; then
    # RetentionStorage.swift only re-exports RetentionMetrics, which is the same module here.
    for f in Sources/RetentionStorage/*.swift; do
        [ "$(basename "$f")" = RetentionStorage.swift ] || sources+=("$f")
    done
fi

out=.build/fuzz
mkdir -p "$out/$harness-corpus" "$out/$harness-crashes"
binary="$out/fuzz-$harness"
swiftc -sanitize=fuzzer,address -parse-as-library -O -g -module-name Fuzz -package-name retention -swift-version 6 \
    -I Sources/CRetentionPrefetch/include \
    "Fuzz/$file" "${sources[@]}" -o "$binary" 2> "$out/$harness-build.log" \
    || { cat "$out/$harness-build.log" >&2; exit 1; }
# ld.gold warns "Cannot export local symbol '__asan_...'" for ASan's outlined checks: harmless, kept in the log.

log="$out/$harness.log"
set +e
"$binary" "$out/$harness-corpus" "Fuzz/Corpus/$harness" -max_total_time="$seconds" -max_len=4096 \
    -rss_limit_mb=2048 -artifact_prefix="$out/$harness-crashes/" -print_final_stats=1 "$@" > "$log" 2>&1
status=$?
set -e
grep -E "^#[0-9]+ +(INITED|DONE)|ERROR|SUMMARY|crash-|timeout-|oom-" "$log" || true
executions=$(grep -E "^stat::number_of_executed_units" "$log" | awk '{print $2}' | tail -1)
crashes=$(find "$out/$harness-crashes" -type f | wc -l)
echo "harness=$harness seconds=$seconds executions=${executions:-?} crashes=$crashes exit=$status"
