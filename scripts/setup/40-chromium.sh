#!/usr/bin/env bash
# Debian's Chromium for the console's browser tests (Playwright drives /usr/bin/chromium; no browser download).
set -euo pipefail
. "$(dirname "$0")/../lib/apt.sh"
ensure_packages chromium
