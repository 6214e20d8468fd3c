#!/usr/bin/env bash
# Wine for the Windows smoke test: Debian's wine64 runs the self-contained win-x64 agent (its selftest and its
# installer with the service control manager). The command is `wine` (wine64 is not on PATH). The tests find it
# through REHOME_WINE, which this script writes for them; without it the Wine test fails rather than skips.
set -euo pipefail
. "$(dirname "$0")/../lib/apt.sh"
# --no-install-recommends: the `wine` launcher is its own package (wine64 only recommends it).
ensure_packages wine64 wine
wine=$(command -v wine || true)
[ -n "$wine" ] || { echo "wine64 installed but no 'wine' command on PATH" >&2; exit 1; }
echo "REHOME_WINE=$wine" >>"${REHOME_TEST_ENV:-/dev/null}"
