#!/usr/bin/env bash
# Runs every Rehome test on a clean Debian machine with the .NET SDK.
#
# It installs and starts what the tests need (PostgreSQL, Samba DCs, ntfs-3g, Chromium ...) through the
# scripts in scripts/setup (installs, idempotent) and scripts/start (services; each writes KEY=VALUE lines
# for the tests into $REHOME_TEST_ENV and is stopped by its scripts/stop twin at the end, even on failure).
# Extra arguments go to `dotnet test` (e.g. ./test.sh --filter FullyQualifiedName~Core).
set -euo pipefail
cd "$(dirname "$0")"
root=$PWD
export REHOME_TEST_RUN="$root/.test-run"
export REHOME_TEST_ENV="$REHOME_TEST_RUN/env"

stop_services() {
  for s in scripts/stop/*.sh; do
    [ -e "$s" ] || continue
    bash "$s" || echo "warning: $s failed" >&2
  done
}
# Services an earlier, interrupted run left behind are stopped before their folder goes.
stop_services >/dev/null 2>&1 || true
rm -rf "$REHOME_TEST_RUN"
mkdir -p "$REHOME_TEST_RUN"
chmod 755 "$REHOME_TEST_RUN"
: >"$REHOME_TEST_ENV"
trap stop_services EXIT

for s in scripts/setup/*.sh; do
  [ -e "$s" ] || continue
  echo "== setup: $s"
  bash "$s"
done
for s in scripts/start/*.sh; do
  [ -e "$s" ] || continue
  echo "== start: $s"
  bash "$s"
done

# Expose what the services wrote to the test processes: KEY=VALUE lines taken literally (values such as
# connection strings hold ';' and spaces, so the file is not sourced as shell).
while IFS= read -r line || [ -n "$line" ]; do
  case "$line" in
    [A-Za-z_]*=*) export "${line%%=*}=${line#*=}" ;;
  esac
done <"$REHOME_TEST_ENV"

echo "== format check"
dotnet format Rehome.slnx --verify-no-changes

echo "== build"
dotnet build Rehome.slnx -c Release -warnaserror

# The self-contained Windows agent (no .NET on devices): a broken publish fails CI here, and the Wine tests run
# this output. A folder, not PublishSingleFile: a single-file bundle does not start under Wine (CoreLib fails to load).
echo "== publish: win-x64 agent"
export REHOME_AGENT_WIN_X64="$REHOME_TEST_RUN/agent-win-x64"
dotnet publish src/Rehome.Agent -c Release -r win-x64 --self-contained -o "$REHOME_AGENT_WIN_X64"

echo "== tests"
results="$REHOME_TEST_RUN/results"
status=0
dotnet test Rehome.slnx -c Release --no-build --logger "trx" --results-directory "$results" "$@" || status=$?

# One plain closing line over all test projects, read from the result files.
python3 - "$results" <<'PY'
import glob, sys, xml.etree.ElementTree as ET
ns = {"t": "http://microsoft.com/schemas/VisualStudio/TeamTest/2010"}
passed = failed = skipped = 0
for f in glob.glob(sys.argv[1] + "/*.trx"):
    c = ET.parse(f).getroot().find("t:ResultSummary/t:Counters", ns)
    if c is None:
        continue
    passed += int(c.get("passed", 0))
    failed += int(c.get("failed", 0)) + int(c.get("error", 0)) + int(c.get("timeout", 0))
    skipped += int(c.get("notExecuted", 0))
print(f"{passed} passed, {failed} failed, {skipped} skipped")
PY
exit $status
