#!/usr/bin/env bash
# A throwaway PostgreSQL cluster on localhost for fleetscope's tests.
#
#   .ci/postgres.sh start   # init (once) and start; prints the URL to use
#   .ci/postgres.sh stop    # stop it (the data stays until `clean`)
#   .ci/postgres.sh clean   # stop it and remove its directory
#   .ci/postgres.sh url     # print the URL again
#
#   export FLEETSCOPE_TEST_POSTGRES_URL=$(.ci/postgres.sh start)
#   cargo test --features postgres --test rollout_state --test rollout_cli --test rollout_stores
#
# FLEETSCOPE_PG_DIR (default /tmp/fleetscope-pg) and FLEETSCOPE_PG_PORT
# (default 54329) choose where; the role `fleetscope` gets a random
# password (kept in the directory), so password handling is exercised over
# TCP with scram-sha-256. Needs the Debian postgresql package's binaries
# (/usr/lib/postgresql/*/bin); run as root, the cluster runs as `postgres`.
set -euo pipefail

dir=${FLEETSCOPE_PG_DIR:-/tmp/fleetscope-pg}
port=${FLEETSCOPE_PG_PORT:-54329}
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
[ -n "$bin" ] || { echo "postgres.sh: no PostgreSQL binaries under /usr/lib/postgresql/*/bin (apt-get install postgresql)" >&2; exit 1; }

as_owner() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

url() {
  printf 'postgres://fleetscope:%s@127.0.0.1:%s/fleetscope\n' "$(cat "$dir/password")" "$port"
}

case "${1:-}" in
  start)
    if [ ! -f "$dir/data/PG_VERSION" ]; then
      mkdir -p "$dir"
      head -c 18 /dev/urandom | base64 | tr -d '/+=' > "$dir/password"
      [ "$(id -u)" = 0 ] && chown -R postgres "$dir"
      chmod 700 "$dir"
      as_owner "$bin/initdb" -D "$dir/data" -U fleetscope --pwfile="$dir/password" \
        --auth-local=trust --auth-host=scram-sha-256 -E UTF8 >"$dir/initdb.log" 2>&1 \
        || { cat "$dir/initdb.log" >&2; exit 1; }
    fi
    if ! as_owner "$bin/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
      as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
        -o "-p $port -c listen_addresses=127.0.0.1 -k $dir -c max_connections=200 -c fsync=off" start >/dev/null \
        || { cat "$dir/server.log" >&2; exit 1; }
    fi
    if ! as_owner "$bin/psql" -h "$dir" -p "$port" -U fleetscope -d postgres -Atqc \
        "SELECT 1 FROM pg_database WHERE datname = 'fleetscope'" | grep -q 1; then
      as_owner "$bin/createdb" -h "$dir" -p "$port" -U fleetscope fleetscope
    fi
    url
    ;;
  stop)
    if [ -f "$dir/data/PG_VERSION" ]; then
      as_owner "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
    fi
    ;;
  clean)
    "$0" stop
    rm -rf "$dir"
    ;;
  url)
    url
    ;;
  *)
    echo "usage: $0 start|stop|clean|url" >&2
    exit 2
    ;;
esac
