#!/usr/bin/env bash
# A second throwaway PostgreSQL cluster for tests/Rehome.Fault.Tests, which stop and start their database mid-run:
# the shared cluster of scripts/start/10-postgres.sh stays up for the projects running in parallel.
# Its settings live in postgresql.auto.conf, so a plain `pg_ctl start` brings it back the same (no -o to repeat).
# Writes REHOME_TEST_FAULT_POSTGRES and what a test needs to stop and start it; scripts/stop/15-postgres-faults.sh stops it.
set -euo pipefail
. "$(dirname "$0")/../lib/ports.sh"
bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
dir="$REHOME_TEST_RUN/postgres-faults"
port=${REHOME_TEST_FAULT_POSTGRES_PORT:-$(free_port 25532)}
mkdir -p "$dir"
chown postgres:postgres "$dir"
runuser -u postgres -- "$bin/initdb" -D "$dir/data" -A trust -U rehome >"$dir/initdb.log"
# Two replicas with their pools, and the tests' own connections.
cat >>"$dir/data/postgresql.auto.conf" <<CONF
port = $port
listen_addresses = '127.0.0.1'
unix_socket_directories = '$dir'
max_connections = 400
fsync = off
CONF
runuser -u postgres -- "$bin/pg_ctl" -D "$dir/data" -l "$dir/log" -w start >/dev/null
{
  echo "REHOME_TEST_FAULT_POSTGRES=Host=127.0.0.1;Port=$port;Username=rehome;Database=postgres"
  echo "REHOME_TEST_FAULT_PGCTL=$bin/pg_ctl"
  echo "REHOME_TEST_FAULT_PGDATA=$dir/data"
  echo "REHOME_TEST_FAULT_PGLOG=$dir/log"
  echo "REHOME_TEST_FAULT_PGUSER=postgres"
} >>"$REHOME_TEST_ENV"
echo "postgres (fault tests) on 127.0.0.1:$port"
