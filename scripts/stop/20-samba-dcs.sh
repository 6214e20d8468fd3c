#!/usr/bin/env bash
# Stops the Samba DCs of scripts/start/20-samba-dcs.sh by the PIDs it recorded. Each DC was started as
# the leader of its own process group (setsid) and its worker processes stay in that group, so the
# whole group is signalled and awaited.
set -euo pipefail
dir="$REHOME_TEST_RUN/samba"
for name in src dst; do
  pidfile="$dir/$name/samba.pid"
  [ -f "$pidfile" ] || continue
  pid=$(cat "$pidfile")
  kill -TERM -- "-$pid" 2>/dev/null || true
  deadline=$((SECONDS + 20))
  while kill -0 -- "-$pid" 2>/dev/null && [ $SECONDS -lt $deadline ]; do sleep 0.1; done
  kill -KILL -- "-$pid" 2>/dev/null || true
  rm -f "$pidfile"
done
