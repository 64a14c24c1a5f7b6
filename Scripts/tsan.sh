#!/usr/bin/env bash
# Runs the tests under ThreadSanitizer in a separate build directory (.build/tsan), so the normal debug build is
# untouched.
#
#     Scripts/tsan.sh                     # every test (slow: a full instrumented build)
#     Scripts/tsan.sh 'SQLite|Store'      # only tests matching a filter (swift test --filter)
#
# Exits non-zero when a test fails or TSan reports a data race ("WARNING: ThreadSanitizer" in the output).
set -euo pipefail
cd "$(dirname "$0")/.."
filter=()
if [ $# -gt 0 ]; then filter=(--filter "$1"); fi
log=.build/tsan.log
mkdir -p .build
set +e
TSAN_OPTIONS="${TSAN_OPTIONS:-halt_on_error=0 second_deadlock_stack=1}" \
    swift test --sanitize=thread --scratch-path .build/tsan "${filter[@]}" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e
races=$(grep -c "WARNING: ThreadSanitizer" "$log" || true)
echo "tsan: exit=$status races=$races (log: $log)"
[ "$status" -eq 0 ] && [ "$races" -eq 0 ]
