#!/usr/bin/env bash
# Security tests: ntfs-3g (mkntfs, the FUSE driver, ntfssecaudit) for real NTFS descriptors, python3-samba as
# an independent SDDL/binary codec, samba-common-bin for `samba-tool ntacl`, attr for getfattr/setfattr.
set -euo pipefail
. "$(dirname "$0")/../lib/apt.sh"
ensure_packages ntfs-3g fuse3 attr python3-samba samba-common-bin
