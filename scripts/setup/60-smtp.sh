#!/usr/bin/env bash
# Debian's aiosmtpd: the notification tests start it as a real SMTP server on a loopback port and read what it received.
set -euo pipefail
. "$(dirname "$0")/../lib/apt.sh"
ensure_packages python3-aiosmtpd
