#!/usr/bin/env bash
# Times the `retention` CLI against pandas, polars and DuckDB on the same generated order files, checks that every
# tool finds the same customers, orders and repeat-purchase rate, and prints one Markdown table.
#
#   Benchmarks/compare.sh                      # 10^5 and 10^6 orders, best of 3 runs each
#   SIZES="100000 1000000 10000000" REPEATS=1 Benchmarks/compare.sh
#
# Environment: SIZES (orders per file), REPEATS (runs per tool, the fastest is reported), DATA_DIR (generated files,
# deleted at the end unless KEEP_DATA=1), VENV (the throwaway Python environment, created if missing).
# Needs: swift, python3 with venv, /usr/bin/time (GNU), PyPI access on the first run.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
PEERS="$ROOT/Benchmarks/peers"
SIZES=${SIZES:-"100000 1000000"}
REPEATS=${REPEATS:-3}
DATA_DIR=${DATA_DIR:-/tmp/retention-compare}
VENV=${VENV:-/tmp/retention-peers-venv}
KEEP_DATA=${KEEP_DATA:-0}
CLI="$ROOT/Examples/RetentionCLI"

fail() { echo "compare.sh: $*" >&2; exit 1; }
[ -x /usr/bin/time ] || fail "GNU /usr/bin/time is required (Debian: apt-get install time)"

mkdir -p "$DATA_DIR"
RESULTS="$DATA_DIR/results.tsv"
: > "$RESULTS"
cleanup() { if [ "$KEEP_DATA" != 1 ]; then rm -rf "$DATA_DIR"; fi; }
trap cleanup EXIT

echo "== building the CLI (release)" >&2
swift build --package-path "$CLI" -c release --product retention >&2
BIN="$(swift build --package-path "$CLI" -c release --show-bin-path)/retention"

if [ ! -x "$VENV/bin/python" ]; then
    echo "== creating $VENV (pandas, polars, duckdb from PyPI)" >&2
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install --quiet pandas polars duckdb >&2
fi
PY="$VENV/bin/python"

# measure TOOL SIZE STDOUT_FILE COMMAND...: runs the command REPEATS times under /usr/bin/time -v and appends
# "size tool wall_seconds peak_rss_kb cpu_seconds" (the fastest run's wall and CPU, the largest RSS) to RESULTS.
# CPU = user + system time, all threads: the figure that stays meaningful when other work shares the machine.
measure() {
    local tool=$1 size=$2 out=$3; shift 3
    local best="" cpu="" rss=0 run wall kb used
    for ((run = 1; run <= REPEATS; run++)); do
        /usr/bin/time -v -o "$DATA_DIR/time.txt" "$@" > "$out" || fail "$tool failed on $size orders"
        wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {
            n = split($2, p, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + p[i]; print s }' "$DATA_DIR/time.txt")
        kb=$(awk -F': ' '/Maximum resident set size/ { print $2 }' "$DATA_DIR/time.txt")
        used=$(awk -F': ' '/(User|System) time \(seconds\)/ { s += $2 } END { print s }' "$DATA_DIR/time.txt")
        if [ -z "$best" ] || awk -v a="$wall" -v b="$best" 'BEGIN { exit !(a < b) }'; then best=$wall; cpu=$used; fi
        if [ "$kb" -gt "$rss" ]; then rss=$kb; fi
    done
    printf '%s\t%s\t%s\t%s\t%s\n' "$size" "$tool" "$best" "$rss" "$cpu" >> "$RESULTS"
    echo "   $tool: ${best}s wall, ${cpu}s CPU, $((rss / 1024)) MB" >&2
}

echo "loadavg_start	$(cut -d' ' -f1-3 /proc/loadavg)" > "$DATA_DIR/load.txt"
for size in $SIZES; do
    file="$DATA_DIR/orders-$size.csv"
    echo "== $size orders" >&2
    swift run --package-path "$CLI" -c release retention generate --orders "$size" --seed 7 --output "$file" >&2
    echo "   $(du -h "$file" | cut -f1) $file, load $(cut -d' ' -f1-3 /proc/loadavg)" >&2
    measure "retention report" "$size" "$DATA_DIR/ours-$size.json" "$BIN" report "$file" --format json
    measure "retention rfm" "$size" "$DATA_DIR/rfm-$size.csv" "$BIN" rfm "$file"
    measure "retention summary" "$size" "$DATA_DIR/summary-$size.csv" "$BIN" summary "$file" --unit day
    for peer in pandas polars duckdb; do
        measure "$peer" "$size" "$DATA_DIR/$peer-$size.json" "$PY" "$PEERS/${peer}_tasks.py" "$file"
    done
    rm -f "$DATA_DIR/rfm-$size.csv" "$DATA_DIR/summary-$size.csv"
    [ "$KEEP_DATA" = 1 ] || rm -f "$file"
    echo "loadavg_after_$size	$(cut -d' ' -f1-3 /proc/loadavg)" >> "$DATA_DIR/load.txt"
done

# Agreement and the table (plain python3: only the standard library).
python3 - "$DATA_DIR" "$SIZES" <<'PY'
import json, sys
from pathlib import Path

data, sizes = Path(sys.argv[1]), sys.argv[2].split()
rows = [line.split("\t") for line in (data / "results.tsv").read_text().splitlines()]
problems = []
for size in sizes:
    ours = json.loads((data / f"ours-{size}.json").read_text())
    expected = (ours["customers"], ours["orders"], ours["repeatPurchaseRate"])
    print(f"{size} orders: ours customers={expected[0]} orders={expected[1]} repeat rate={expected[2]!r}")
    for peer in ("pandas", "polars", "duckdb"):
        lines = (data / f"{peer}-{size}.json").read_text().strip().splitlines()
        theirs = json.loads(lines[-1])
        got = (theirs["customers"], theirs["orders"], theirs["repeat_purchase_rate"])
        if got[0] != expected[0] or got[1] != expected[1] or abs(got[2] - expected[2]) > 1e-9:
            problems.append(f"{peer} on {size} orders disagrees: {got} vs ours {expected}")
        print(f"  {theirs['tool']}: customers={got[0]} orders={got[1]} repeat rate={got[2]!r}")
print()
print("| orders | tool | wall (s) | x fastest peer | CPU user+sys (s) | peak RSS (MB) |")
print("| ---: | --- | ---: | ---: | ---: | ---: |")
for size in sizes:
    here = [r for r in rows if r[0] == size]
    fastest = min(float(r[2]) for r in here if r[1] in ("pandas", "polars", "duckdb"))
    for _, tool, wall, kb, cpu in here:
        print(f"| {int(size):,} | {tool} | {float(wall):.2f} | {float(wall) / fastest:.2f} | {float(cpu):.2f} "
              f"| {int(kb) / 1024:.0f} |")
print()
for line in (data / "load.txt").read_text().splitlines():
    name, value = line.split("\t")
    print(f"{name}: {value}")
if problems:
    print("\nDISAGREEMENT:\n  " + "\n  ".join(problems), file=sys.stderr)
    sys.exit(1)
print("\nAll tools agree on customers, orders and the repeat-purchase rate (to 1e-9).")
PY
