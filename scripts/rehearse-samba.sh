#!/usr/bin/env bash
# The rehearsal against real Active Directory: starts the two Samba test DCs (SRC.TEST on 127.0.0.2, DST.TEST
# on 127.0.0.3; installs Samba from Debian's packages if needed), runs `rehome rehearse --samba` with any extra
# arguments (e.g. --devices 50), and stops the DCs at the end. Run as root (the DCs need their own mount
# namespaces), and not while ./test.sh runs: both use the same addresses.
set -euo pipefail
cd "$(dirname "$0")/.."
export REHOME_TEST_RUN="${REHOME_TEST_RUN:-/tmp/rehome-samba-rehearsal}"
export REHOME_TEST_ENV="$REHOME_TEST_RUN/env"
rm -rf "$REHOME_TEST_RUN"
mkdir -p "$REHOME_TEST_RUN"
chmod 755 "$REHOME_TEST_RUN"
: >"$REHOME_TEST_ENV"
trap 'bash scripts/stop/20-samba-dcs.sh' EXIT
bash scripts/setup/20-samba.sh
bash scripts/start/20-samba-dcs.sh
while IFS= read -r line || [ -n "$line" ]; do
  case "$line" in
    [A-Za-z_]*=*) export "${line%%=*}=${line#*=}" ;;
  esac
done <"$REHOME_TEST_ENV"
dotnet run --project src/Rehome.Cli -- rehearse --samba --exit "$@"
