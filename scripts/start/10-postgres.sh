#!/usr/bin/env bash
# A throwaway PostgreSQL cluster on a loopback port, in a folder of the test run, owned by postgres
# (initdb refuses root). Writes REHOME_TEST_POSTGRES for the tests; scripts/stop/10-postgres.sh stops it.
set -euo pipefail
. "$(dirname "$0")/../lib/ports.sh"
bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
dir="$REHOME_TEST_RUN/postgres"
port=${REHOME_TEST_POSTGRES_PORT:-$(free_port 25432)}
mkdir -p "$dir"
chown postgres:postgres "$dir"
runuser -u postgres -- "$bin/initdb" -D "$dir/data" -A trust -U rehome >"$dir/initdb.log"
runuser -u postgres -- "$bin/pg_ctl" -D "$dir/data" -l "$dir/log" -w \
  -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c max_connections=200 -c fsync=off" start >/dev/null
echo "REHOME_TEST_POSTGRES=Host=127.0.0.1;Port=$port;Username=rehome;Database=postgres" >>"$REHOME_TEST_ENV"
echo "postgres on 127.0.0.1:$port"
