#!/usr/bin/env bash
# Samba Active Directory domain controllers for the directory tests (LDAP, offline domain join).
# samba-ad-provision is needed explicitly because recommends are not installed; without it provisioning
# finds no schema. libsasl2-modules-gssapi-mit gives Kerberos (Negotiate) binds; openssl makes the test CA.
set -euo pipefail
. "$(dirname "$0")/../lib/apt.sh"
ensure_packages samba samba-ad-dc samba-ad-provision samba-dsdb-modules samba-common-bin python3-samba openssl \
  winbind krb5-user ldap-utils smbclient libsasl2-modules-gssapi-mit libldap-2.5-0
