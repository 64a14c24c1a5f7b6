#!/usr/bin/env bash
# A bounded load run of retention-server on loopback: a throwaway store, the release build, wrk with a mix of
# POST /orders (new orders, re-sent batches, malformed, invalid and oversized bodies) and report queries
# (Scripts/load-test.lua), the server's RSS sampled meanwhile; then checks that no acknowledged order is lost,
# that nothing answered 5xx, and prints throughput and latency. Everything it starts is stopped on exit.
#
#   Examples/RetentionServer/Scripts/load-test.sh                 # PostgreSQL, 60 s
#   LOAD_STORE=sqlite LOAD_DURATION=30 Examples/RetentionServer/Scripts/load-test.sh
#
# Environment: LOAD_STORE postgres (default; needs PostgreSQL 15, see start-test-postgres.sh) or sqlite;
# LOAD_DURATION seconds (60); LOAD_CONNECTIONS (16); LOAD_THREADS (2); LOAD_PORT (18080); LOAD_MAX_BODY (65536,
# the server's --max-body-bytes; the script's oversized bodies are 70 000 bytes); LOAD_SAMPLE_SECONDS (5);
# LOAD_PG_PORT (54339) and LOAD_PG_DIR (/tmp/retention-load-postgres) for the cluster; LOAD_BUILD=0 to skip
# `swift build -c release`; LOAD_BINARY (default .build/release/retention-server in the package). Needs wrk
# (apt-get install -y wrk). Exit status 1 when an acknowledged order is missing from the store, the store holds
# more than was sent or than could have been in flight, or anything answered 5xx.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
package="$(dirname "$here")"
store="${LOAD_STORE:-postgres}"
duration="${LOAD_DURATION:-60}"
connections="${LOAD_CONNECTIONS:-16}"
threads="${LOAD_THREADS:-2}"
port="${LOAD_PORT:-18080}"
max_body="${LOAD_MAX_BODY:-65536}"
sample_seconds="${LOAD_SAMPLE_SECONDS:-5}"
work="$(mktemp -d /tmp/retention-load.XXXXXX)"
pg_dir="${LOAD_PG_DIR:-/tmp/retention-load-postgres}"
server_pid=""
sampler_pid=""
postgres_started=0

cleanup() {
    if [[ -n "$sampler_pid" ]]; then kill "$sampler_pid" 2> /dev/null || true; fi
    if [[ -n "$server_pid" ]]; then
        kill -TERM "$server_pid" 2> /dev/null || true
        for _ in $(seq 50); do kill -0 "$server_pid" 2> /dev/null || break; sleep 0.1; done
        kill -KILL "$server_pid" 2> /dev/null || true
    fi
    if [[ "$postgres_started" == 1 ]]; then
        RETENTION_PG_DIR="$pg_dir" "$here/stop-test-postgres.sh" || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT INT TERM

command -v wrk > /dev/null || { echo "load-test: wrk not found (apt-get install -y wrk)" >&2; exit 1; }
if [[ "${LOAD_BUILD:-1}" != 0 ]]; then
    echo "load-test: swift build -c release --product retention-server" >&2
    swift build -c release --package-path "$package" --product retention-server >&2
fi
binary="${LOAD_BINARY:-$package/.build/release/retention-server}"
[[ -x "$binary" ]] || { echo "load-test: $binary not found" >&2; exit 1; }

arguments=(--host 127.0.0.1 --port "$port" --no-seed --max-body-bytes "$max_body" --log-level warning)
case "$store" in
    postgres)
        postgres_started=1
        url="$(RETENTION_PG_DIR="$pg_dir" RETENTION_PG_PORT="${LOAD_PG_PORT:-54339}" "$here/start-test-postgres.sh")"
        export DATABASE_URL="$url"
        ;;
    sqlite)
        unset DATABASE_URL
        arguments+=(--sqlite "$work/load.sqlite")
        ;;
    *) echo "load-test: LOAD_STORE must be postgres or sqlite" >&2; exit 1 ;;
esac

"$binary" "${arguments[@]}" > "$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 100); do
    if curl -fsS "http://127.0.0.1:$port/health" > /dev/null 2>&1; then break; fi
    kill -0 "$server_pid" 2> /dev/null || { cat "$work/server.log" >&2; exit 1; }
    sleep 0.2
done
curl -fsS "http://127.0.0.1:$port/health" > /dev/null

# RSS (kB) every few seconds, from /proc.
(
    start=$(date +%s)
    while kill -0 "$server_pid" 2> /dev/null; do
        rss=$(awk '/^VmRSS:/ {print $2}' "/proc/$server_pid/status" 2> /dev/null || echo 0)
        echo "$(($(date +%s) - start)) $rss"
        sleep "$sample_seconds"
    done
) > "$work/rss.txt" &
sampler_pid=$!

echo "load-test: $store store, $duration s, $connections connections, $threads threads, port $port" >&2
wrk -t"$threads" -c"$connections" -d"${duration}s" --timeout 10s -s "$here/load-test.lua" \
    "http://127.0.0.1:$port" > "$work/wrk.txt"
kill "$sampler_pid" 2> /dev/null || true
wait "$sampler_pid" 2> /dev/null || true
sampler_pid=""

value() { awk -F= -v key="$1" '$1 == key {print substr($0, length(key) + 2)}' "$work/wrk.txt"; }
stored=$(curl -fsS "http://127.0.0.1:$port/health" | tr -d ' \n' | sed -E 's/.*"orders":([0-9]+).*/\1/')
acknowledged=$(value orders_acknowledged)
sent=$(value unique_orders_sent)
fivexx=$(value status_5xx)

echo
cat "$work/wrk.txt"
echo "orders_stored=$stored"
rss_values=$(awk '{print $2}' "$work/rss.txt")
echo "rss_kb_samples=$(echo $rss_values)"
first_rss=$(echo "$rss_values" | sed -n 2p)
last_rss=$(echo "$rss_values" | tail -1)
max_rss=$(echo "$rss_values" | sort -n | tail -1)
echo "rss_kb_after_${sample_seconds}s=$first_rss rss_kb_last=$last_rss rss_kb_max=$max_rss"
if grep -qiE 'error|critical' "$work/server.log"; then
    echo "server log (errors):"
    grep -iE 'error|critical' "$work/server.log" | sort | uniq -c | sort -rn | head -5
fi

status=0
# Lost: an order acknowledged (in a 200 answer's "inserted") but not in the store. The store may hold a few more
# than acknowledged (requests in flight when wrk stopped, applied but never answered), never more than were sent.
if ((stored < acknowledged)); then
    echo "FAIL: $((acknowledged - stored)) acknowledged orders are missing from the store" >&2
    status=1
fi
if ((stored > sent)); then
    echo "FAIL: the store holds $stored orders, more than the $sent distinct orders sent" >&2
    status=1
fi
if ((stored - acknowledged > connections * 5)); then
    echo "FAIL: $((stored - acknowledged)) stored orders were never acknowledged, more than $connections" \
        "connections x 5 orders could have had in flight" >&2
    status=1
fi
if ((fivexx != 0)); then
    echo "FAIL: $fivexx answers were 5xx" >&2
    status=1
fi
if ((status == 0)); then
    echo "OK: 0 lost orders ($acknowledged acknowledged, $stored stored, $((stored - acknowledged)) applied but" \
        "unanswered when wrk stopped), 0 answers 5xx"
fi
exit "$status"
