#!/usr/bin/env bash
# Creates and starts a throwaway PostgreSQL 15 cluster for the RetentionServer tests, then prints its URL.
#
#   url=$(Examples/RetentionServer/Scripts/start-test-postgres.sh)
#   RETENTION_POSTGRES_URL=$url swift test --package-path Examples/RetentionServer
#   Examples/RetentionServer/Scripts/stop-test-postgres.sh
#
# Needs Debian's `postgresql` package (initdb and pg_ctl under /usr/lib/postgresql/15/bin). The cluster runs as
# a non-root user (PostgreSQL refuses root): `postgres` when the script runs as root. Data lives under /tmp, the
# server listens on 127.0.0.1 only, and 127.0.0.1 connections are trusted (no password): test use only.
#
# Environment: RETENTION_PG_PORT (default 54329), RETENTION_PG_DIR (default /tmp/retention-test-postgres),
# RETENTION_PG_BIN (default /usr/lib/postgresql/15/bin). Everything else goes to stderr; stdout is the URL.
set -euo pipefail

port="${RETENTION_PG_PORT:-54329}"
dir="${RETENTION_PG_DIR:-/tmp/retention-test-postgres}"
bin="${RETENTION_PG_BIN:-/usr/lib/postgresql/15/bin}"
database=retention
role=retention

if [[ ! -x "$bin/initdb" || ! -x "$bin/pg_ctl" ]]; then
    echo "start-test-postgres: $bin/initdb not found; install PostgreSQL 15 (apt-get install -y postgresql)" >&2
    exit 1
fi

# Run a command as the cluster's owner: ourselves unless we are root.
as_owner() {
    if [[ "$(id -u)" == 0 ]]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

if [[ "$(id -u)" == 0 ]] && ! id postgres > /dev/null 2>&1; then
    useradd --system --no-create-home --shell /usr/sbin/nologin postgres
fi

# A cluster left over from an earlier run: stop it and start again from nothing.
if [[ -f "$dir/data/postmaster.pid" ]]; then
    as_owner "$bin/pg_ctl" -D "$dir/data" -m immediate stop > /dev/null 2>&1 || true
fi
rm -rf "$dir"
mkdir -p "$dir"
if [[ "$(id -u)" == 0 ]]; then chown postgres: "$dir"; fi

as_owner "$bin/initdb" -D "$dir/data" --username="$role" --encoding=UTF8 --locale=C.UTF-8 \
    --auth-local=trust --auth-host=trust > "$dir/initdb.log" 2>&1 || {
    cat "$dir/initdb.log" >&2
    exit 1
}
# Loopback only, and the socket in our own directory (not /var/run/postgresql, which may not exist).
as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories=$dir -c fsync=off" start >&2 || {
    cat "$dir/server.log" >&2
    exit 1
}
as_owner "$bin/createdb" -h 127.0.0.1 -p "$port" -U "$role" "$database" >&2

echo "postgres://$role@127.0.0.1:$port/$database"
