#!/usr/bin/env bash
# Security tests: ntfs-3g (mkntfs, the FUSE driver, ntfssecaudit) for real NTFS descriptors, python3-samba as
# an independent SDDL/binary codec and NTACL reader.
set -euo pipefail
. "$(dirname "$0")/../lib/apt.sh"
ensure_packages ntfs-3g fuse3 python3-samba
