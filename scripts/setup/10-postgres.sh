#!/usr/bin/env bash
# PostgreSQL 15 from Debian's packages, for the store tests that run against a real server.
set -euo pipefail
. "$(dirname "$0")/../lib/apt.sh"
ensure_packages postgresql postgresql-client
