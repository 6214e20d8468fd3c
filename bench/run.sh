#!/usr/bin/env bash
# Runs a benchmark against a throwaway PostgreSQL (started and stopped here with the test scripts, on port 25632, below the ephemeral range).
#
#   bench/run.sh [sqlite|postgres|all] [mappings-per-run] [project-size]
#       the store benchmarks of bench/Rehome.Bench, on SQLite and on PostgreSQL
#   bench/run.sh agents MODE [ARGS]
#       bench/Rehome.Agents.Bench in Release (docs/benchmarks.md has the figures of each):
#         pickup-replicas [agents=1000]  two server processes on the PostgreSQL, agents spread over both, OK → first step
#         hold [agents=50000] [http1|http2]  every agent holding a long poll on one server process: the server's memory
#         polls-ratio [agents=1000] [seconds=10]  authenticated polls per second, the gateway against bare Kestrel
#         pickup [agents], polls [agents] [seconds], rehearse [devices]  (these need no PostgreSQL)
set -euo pipefail
cd "$(dirname "$0")/.."
export REHOME_TEST_RUN="$PWD/.test-run/bench"
export REHOME_TEST_ENV="$REHOME_TEST_RUN/env"
export REHOME_TEST_POSTGRES_PORT=25632
rm -rf "$REHOME_TEST_RUN"; mkdir -p "$REHOME_TEST_RUN"; chmod 755 "$PWD/.test-run" "$REHOME_TEST_RUN"; : >"$REHOME_TEST_ENV"
bash scripts/setup/10-postgres.sh
trap 'bash scripts/stop/10-postgres.sh' EXIT
bash scripts/start/10-postgres.sh
REHOME_BENCH_POSTGRES="$(grep '^REHOME_TEST_POSTGRES=' "$REHOME_TEST_ENV" | cut -d= -f2-)"
export REHOME_BENCH_POSTGRES
if [ "${1:-}" = agents ]; then
  shift
  # Each held poll is an open file in the server and in a fleet process: as many as this machine lets a process
  # have (a hard limit of 20,000 here, which even root cannot raise in this container).
  ulimit -n "$(ulimit -Hn)"
  dotnet run -c Release --project bench/Rehome.Agents.Bench -- "$@"
else
  dotnet run -c Release --project bench/Rehome.Bench -- "$@"
fi
