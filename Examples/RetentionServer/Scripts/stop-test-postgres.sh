#!/usr/bin/env bash
# Stops the cluster start-test-postgres.sh started and deletes its data.
set -euo pipefail

dir="${RETENTION_PG_DIR:-/tmp/retention-test-postgres}"
bin="${RETENTION_PG_BIN:-/usr/lib/postgresql/15/bin}"

if [[ -f "$dir/data/postmaster.pid" ]]; then
    if [[ "$(id -u)" == 0 ]]; then
        runuser -u postgres -- "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >&2
    else
        "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >&2
    fi
fi
rm -rf "$dir"
