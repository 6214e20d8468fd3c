#!/usr/bin/env bash
set -euo pipefail
dir="$REHOME_TEST_RUN/postgres-faults"
[ -d "$dir/data" ] || exit 0
bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
runuser -u postgres -- "$bin/pg_ctl" -D "$dir/data" -m fast stop >/dev/null 2>&1 || true
