#!/usr/bin/env bash
# Records Benchmarks/Thresholds from RUNS benchmark runs (default 3), keeping each metric's largest p90: on a shared
# machine one run's wall clock can be far below the next one's, and a threshold taken from a lucky run makes the
# check flaky. Malloc counts are the same in every run. Commit the result after an intended change.
#
#   Benchmarks/update-thresholds.sh            # about 1.5 minutes per run on 2 cores once built
set -euo pipefail
cd "$(dirname "$0")"
RUNS=${RUNS:-3}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

for ((run = 1; run <= RUNS; run++)); do
    echo "== run $run of $RUNS ($(cut -d' ' -f1-3 /proc/loadavg))" >&2
    swift package --allow-writing-to-package-directory benchmark thresholds update --path "$work/run$run" \
        --no-progress > "$work/run$run.log" 2>&1 || { cat "$work/run$run.log" >&2; exit 1; }
done

python3 - "$work" "$RUNS" <<'PY'
import json, sys
from pathlib import Path

work, runs = Path(sys.argv[1]), int(sys.argv[2])
out = Path("Thresholds")
out.mkdir(exist_ok=True)
for old in out.glob("*.p90.json"):
    old.unlink()
for first in sorted((work / "run1").glob("*.p90.json")):
    merged = {}
    for run in range(1, runs + 1):
        for metric, value in json.loads((work / f"run{run}" / first.name).read_text()).items():
            merged[metric] = max(merged.get(metric, value), value)
    (out / first.name).write_text(json.dumps(merged, indent=2, sort_keys=True) + "\n")
    print(f"{first.name}: {merged}")
PY
