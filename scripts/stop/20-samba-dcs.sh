#!/usr/bin/env bash
# Stops the Samba DCs of scripts/start/20-samba-dcs.sh by the PIDs it recorded. Each DC was started as
# the leader of its own process group (setsid) and its worker processes stay in that group (smbd makes its
# own but exits with its parent), so the whole group is signalled and awaited; both DCs at once, as each
# takes a couple of seconds to wind down. The PID files live outside the test-run folder, so a run folder
# deleted too early does not leave DCs nobody can find.
set -euo pipefail
pids="${REHOME_TEST_PIDS:-/run/rehome-test}"
groups=()
for name in src dst; do
  pidfile="$pids/samba-$name.pid"
  [ -f "$pidfile" ] || continue
  pid=$(cat "$pidfile")
  # Only a process that is still the samba we started (PIDs get reused).
  if [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "samba" ]; then
    kill -TERM -- "-$pid" 2>/dev/null || true
    groups+=("$pid")
  fi
  rm -f "$pidfile"
done
deadline=$((SECONDS + 20))
for pid in "${groups[@]}"; do
  while kill -0 -- "-$pid" 2>/dev/null && [ $SECONDS -lt $deadline ]; do sleep 0.1; done
  kill -KILL -- "-$pid" 2>/dev/null || true
done
