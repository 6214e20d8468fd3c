#!/usr/bin/env bash
# Runs the store benchmarks of bench/Rehome.Bench on SQLite and on a throwaway PostgreSQL (started and stopped
# here with the test scripts). Arguments go to the benchmark: [sqlite|postgres|all] [mappings-per-run] [project-size].
set -euo pipefail
cd "$(dirname "$0")/.."
export REHOME_TEST_RUN="$PWD/.test-run/bench"
export REHOME_TEST_ENV="$REHOME_TEST_RUN/env"
export REHOME_TEST_POSTGRES_PORT=55433
rm -rf "$REHOME_TEST_RUN"; mkdir -p "$REHOME_TEST_RUN"; chmod 755 "$PWD/.test-run" "$REHOME_TEST_RUN"; : >"$REHOME_TEST_ENV"
bash scripts/setup/10-postgres.sh
trap 'bash scripts/stop/10-postgres.sh' EXIT
bash scripts/start/10-postgres.sh
REHOME_BENCH_POSTGRES="$(grep '^REHOME_TEST_POSTGRES=' "$REHOME_TEST_ENV" | cut -d= -f2-)"
export REHOME_BENCH_POSTGRES
dotnet run -c Release --project bench/Rehome.Bench -- "$@"
