#!/usr/bin/env bash
# Two throwaway Samba Active Directory domain controllers on loopback for the directory tests:
# SRC.TEST on 127.0.0.2 and DST.TEST on 127.0.0.3. Each one lives in a folder of the test run and runs in
# its own mount namespace with its own /run/samba and resolv.conf, because two instances collide on the
# compiled-in run folder (winbindd socket) and `net` must resolve the domain through the DC's own DNS.
# Both are filled with users, groups and computers. Writes REHOME_TEST_SAMBA_* lines into
# $REHOME_TEST_ENV; scripts/stop/20-samba-dcs.sh stops them by PID (files in $REHOME_TEST_PIDS, by default
# /run/rehome-test). Safe to run again: it first stops what an earlier start left, then starts afresh.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
dir="$REHOME_TEST_RUN/samba"
pids="${REHOME_TEST_PIDS:-/run/rehome-test}"
# A throwaway password for throwaway domains; it never leaves the test run.
password='Rehome-Test-Pa55'
started=$EPOCHREALTIME

bash "$here/../stop/20-samba-dcs.sh"
rm -rf "$dir"
mkdir -p "$dir/ca"

# One test certificate authority; each DC's certificate names both its DNS name and its address, so
# LDAPS can be validated whichever of the two a client connects to.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 3 \
  -subj "/CN=Rehome test CA" -keyout "$dir/ca.key" -out "$dir/ca/rehome-test-ca.pem" 2>/dev/null
openssl rehash "$dir/ca"

# Directory content: OUs, users with UPNs, groups with members (nested too), computers in and outside an
# OU. Both domains have the same user names, so the UPN-prefix mapping has pairs to find.
write_ldif() { # base dns-domain users computers
  local base=$1 dns=$2 users=$3 computers=$4
  for ou in Workstations Servers Staff Groups; do
    printf 'dn: OU=%s,%s\nobjectClass: organizationalUnit\n\n' "$ou" "$base"
  done
  for i in $(seq -w 1 "$users"); do
    printf 'dn: CN=User %s,OU=Staff,%s\nobjectClass: user\nsAMAccountName: user%s\nuserPrincipalName: user%s@%s\ndisplayName: User %s\n\n' \
      "$i" "$base" "$i" "$i" "$dns" "$i"
  done
  printf 'dn: CN=Alice Archer,OU=Staff,%s\nobjectClass: user\nsAMAccountName: alice\nuserPrincipalName: alice@%s\ndisplayName: Alice Archer\n\n' "$base" "$dns"
  for i in $(seq -w 1 "$computers"); do
    printf 'dn: CN=PC-%s,OU=Workstations,%s\nobjectClass: computer\nsAMAccountName: PC-%s$\nuserAccountControl: 4096\ndNSHostName: pc-%s.%s\n\n' \
      "$i" "$base" "$i" "$i" "$dns"
  done
  printf 'dn: CN=SRV-01,OU=Servers,%s\nobjectClass: computer\nsAMAccountName: SRV-01$\nuserAccountControl: 4096\n\n' "$base"
  printf 'dn: CN=Finance,OU=Groups,%s\nobjectClass: group\nsAMAccountName: Finance\ndescription: Finance team\nmember: CN=Alice Archer,OU=Staff,%s\nmember: CN=User 01,OU=Staff,%s\n\n' "$base" "$base" "$base"
  printf 'dn: CN=Engineering,OU=Groups,%s\nobjectClass: group\nsAMAccountName: Engineering\nmember: CN=User 02,OU=Staff,%s\n\n' "$base" "$base"
  printf 'dn: CN=All Staff,OU=Groups,%s\nobjectClass: group\nsAMAccountName: All Staff\nmember: CN=Finance,OU=Groups,%s\nmember: CN=Engineering,OU=Groups,%s\n\n' "$base" "$base" "$base"
}

# Kerberos to the DC by address (no DNS in tests): the DC also answers as ldap/<address>.
write_spn_ldif() { # base host address
  printf 'dn: CN=%s,OU=Domain Controllers,%s\nchangetype: modify\nadd: servicePrincipalName\nservicePrincipalName: ldap/%s\n' "${2^^}" "$1" "$3"
}

# Fills a provisioned domain before its DC starts, straight into its database (no DC, no LDAP round trips):
# the content above, and "helpdesk", an enabled user with a password and no administrative rights.
fill_offline() { # target ldif spn-ldif
  # Debian's interpreter, where python3-samba lives (another python3 may come first on PATH).
  unshare -n /usr/bin/python3 - "$1/etc/smb.conf" "$1/private/sam.ldb" "$2" "$password" "$3" <<'PY'
import sys
from samba.auth import system_session
from samba.param import LoadParm
from samba.samdb import SamDB
configuration, url, ldif, password, spn = sys.argv[1:6]
parameters = LoadParm()
parameters.load(configuration)
database = SamDB(url=url, session_info=system_session(), lp=parameters)
with open(ldif, encoding="utf-8") as content:
    database.add_ldif(content.read())
database.newuser("helpdesk", password, userou="OU=Staff")
with open(spn, encoding="utf-8") as content:
    database.modify_ldif(content.read())
PY
}

# Provisioning and filling need no network; they run in an empty network namespace, so whatever they
# might try to resolve or reach (the provisioned smb.conf names the host's resolver) cannot leave.
provision_domain() { # name realm domain address host target base dns-domain users computers
  unshare -n samba-tool domain provision --targetdir="$6" --realm="$2" --domain="$3" --server-role=dc \
    --dns-backend=SAMBA_INTERNAL --adminpass="$password" --host-name="$5" --host-ip="$4" \
    --option="interfaces=$4/8" --option="bind interfaces only=yes" >"$dir/$1.provision.log" 2>&1
  write_ldif "$7" "$8" "$9" "${10}" >"$dir/$1.ldif"
  write_spn_ldif "$7" "$5" "$4" >"$dir/$1.spn.ldif"
  fill_offline "$6" "$dir/$1.ldif" "$dir/$1.spn.ldif" >>"$dir/$1.provision.log" 2>&1
}

# Provisioning and filling are most of the start-up time (CPU-bound, 5-8 s). The result holds no
# absolute path (smb.conf is rewritten below), so a copy is kept in a cache keyed by the Samba version,
# these functions and their arguments; later runs start from that copy.
cache_root="${REHOME_TEST_CACHE:-/var/cache/rehome-test}"

provision() { # name realm domain address users computers
  local name=$1 realm=$2 domain=$3 address=$4
  local d="$dir/$name" host="dc-$name" dns base
  dns=$(echo "$realm" | tr '[:upper:]' '[:lower:]')
  base="DC=${dns//./,DC=}"
  local fqdn="$host.$dns"
  local cached
  cached="$cache_root/samba-$name-$( (samba --version; declare -f provision_domain write_ldif write_spn_ldif fill_offline; echo "$*") | sha256sum | cut -c1-16)"
  if [ -d "$cached" ]; then
    cp -a "$cached" "$d"
  else
    provision_domain "$name" "$realm" "$domain" "$address" "$host" "$d" "$base" "$dns" "$5" "$6"
    # Publish atomically: a half-written copy is never taken for a cached domain.
    mkdir -p "$cache_root"
    cp -a "$d" "$cached.$$" && { mv -T "$cached.$$" "$cached" 2>/dev/null || rm -rf "$cached.$$"; }
  fi
  mkdir -p "$d/run" "$d/log" "$d/tls"
  mkdir -m 0750 "$d/ntp_signd"
  echo "nameserver $address" >"$d/resolv.conf"
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj "/CN=$fqdn" \
    -keyout "$d/tls/key.pem" -out "$d/tls/request.pem" 2>/dev/null
  openssl x509 -req -in "$d/tls/request.pem" -CA "$dir/ca/rehome-test-ca.pem" -CAkey "$dir/ca.key" \
    -set_serial "0x$(openssl rand -hex 8)" -days 3 -out "$d/tls/cert.pem" \
    -extfile <(printf 'subjectAltName=DNS:%s,IP:%s\nextendedKeyUsage=serverAuth\n' "$fqdn" "$address") 2>/dev/null
  chmod 600 "$d/tls/key.pem"
  # Only what a test DC needs; DNS forwarding stays on loopback so nothing leaves the machine.
  cat >"$d/etc/smb.conf" <<CONF
[global]
	netbios name = ${host^^}
	workgroup = $domain
	realm = $realm
	server role = active directory domain controller
	interfaces = $address/8
	bind interfaces only = yes
	private dir = $d/private
	lock directory = $d
	state directory = $d/state
	cache directory = $d/cache
	binddns dir = $d/bind-dns
	ntp signd socket directory = $d/ntp_signd
	log file = $d/log/%m.log
	logging = file
	dns forwarder = 127.0.0.1
	ldap server require strong auth = no
	# A lone DC: no replication, WINS or NTP signing; fewer tasks start faster.
	server services = -drepl -kcc -wrepl -nbt -ntp_signd
	tls enabled = yes
	tls keyfile = $d/tls/key.pem
	tls certfile = $d/tls/cert.pem
	tls cafile = $dir/ca/rehome-test-ca.pem
	load printers = no
	printing = bsd
	printcap name = /dev/null
	disable spoolss = yes
[sysvol]
	path = $d/state/sysvol
	read only = no
[netlogon]
	path = $d/state/sysvol/${realm,,}/scripts
	read only = no
CONF
}

start() { # name address
  local d="$dir/$1"
  # setsid keeps the DC out of the test run's process group; unshare -m without --fork keeps the PID.
  setsid unshare -m --propagation private sh -c '
    mount --bind "$1/resolv.conf" /etc/resolv.conf
    mkdir -p /run/samba
    mount --bind "$1/run" /run/samba
    exec samba -s "$1/etc/smb.conf" --foreground --no-process-group' sh "$d" >"$d/samba.out" 2>&1 &
  mkdir -p "$pids"
  echo $! >"$pids/samba-$1.pid"
  # `net` for this domain runs inside the DC's namespace, where DNS is the DC's own.
  printf '#!/bin/sh\nexec nsenter -t %s -m -- net "$@"\n' "$!" >"$d/net"
  chmod 755 "$d/net"
}

wait_for_ldap() { # name address base
  local deadline=$((SECONDS + 60))
  until ldapsearch -x -H "ldap://$2" -D "Administrator@${3}" -w "$password" -b "" -s base >/dev/null 2>&1; do
    if ! kill -0 "$(cat "$pids/samba-$1.pid")" 2>/dev/null; then
      echo "samba $1 exited; see $dir/$1/samba.out and $dir/$1/log" >&2
      exit 1
    fi
    if [ $SECONDS -ge $deadline ]; then
      echo "samba $1 did not answer LDAP within 60 s" >&2
      exit 1
    fi
    sleep 0.2
  done
  # LDAPS (636) may come up after plain LDAP: the tests use both, so wait for a TLS handshake too.
  until LDAPTLS_CACERT="$dir/ca/rehome-test-ca.pem" ldapsearch -x -H "ldaps://$2" -D "Administrator@${3}" -w "$password" \
      -b "" -s base >/dev/null 2>&1; do
    if [ $SECONDS -ge $deadline ]; then
      echo "samba $1 did not answer LDAPS within 60 s" >&2
      exit 1
    fi
    sleep 0.2
  done
}

provision src SRC.TEST SRC 127.0.0.2 60 40 &
src_job=$!
provision dst DST.TEST DST 127.0.0.3 60 2 &
dst_job=$!
wait $src_job || { cat "$dir/src.provision.log" >&2 2>/dev/null; exit 1; }
wait $dst_job || { cat "$dir/dst.provision.log" >&2 2>/dev/null; exit 1; }
start src
start dst
wait_for_ldap src 127.0.0.2 src.test
wait_for_ldap dst 127.0.0.3 dst.test

# A Kerberos ticket for the tests' Negotiate binds, from a configuration that never asks DNS (the tests
# reach the DCs by address; LDAPSASL_NOCANON keeps libldap from looking the address up).
cat >"$dir/krb5.conf" <<KRB5
[libdefaults]
	default_realm = DST.TEST
	dns_lookup_kdc = false
	dns_lookup_realm = false
	dns_canonicalize_hostname = false
	rdns = false
[realms]
	SRC.TEST = {
		kdc = 127.0.0.2
	}
	DST.TEST = {
		kdc = 127.0.0.3
	}
[domain_realm]
	127.0.0.2 = SRC.TEST
	127.0.0.3 = DST.TEST
KRB5
echo "$password" | KRB5_CONFIG="$dir/krb5.conf" KRB5CCNAME="FILE:$dir/krb5cc" kinit Administrator@DST.TEST >/dev/null

# One `net` for both domains, as a real server's DNS resolves the source (return tickets) and the destination
# alike: it picks the DC's namespace by the domain argument.
cat >"$dir/net" <<NET
#!/bin/sh
for argument in "\$@"; do
  case "\$argument" in
    domain=src.test|domain=SRC.TEST|domain=SRC) exec "$dir/src/net" "\$@" ;;
  esac
done
exec "$dir/dst/net" "\$@"
NET
chmod 755 "$dir/net"

sed -i '/^REHOME_TEST_SAMBA_/d; /^KRB5_CONFIG=/d; /^KRB5CCNAME=/d; /^LDAPSASL_NOCANON=/d' "$REHOME_TEST_ENV"
cat >>"$REHOME_TEST_ENV" <<ENV
REHOME_TEST_SAMBA_PASSWORD=$password
KRB5_CONFIG=$dir/krb5.conf
KRB5CCNAME=FILE:$dir/krb5cc
LDAPSASL_NOCANON=on
REHOME_TEST_SAMBA_UNPRIVILEGED_USER=helpdesk
REHOME_TEST_SAMBA_CA_DIRECTORY=$dir/ca
REHOME_TEST_SAMBA_SRC_ADDRESS=127.0.0.2
REHOME_TEST_SAMBA_SRC_REALM=SRC.TEST
REHOME_TEST_SAMBA_SRC_DOMAIN=SRC
REHOME_TEST_SAMBA_SRC_BASE_DN=DC=src,DC=test
REHOME_TEST_SAMBA_SRC_DC_NAME=dc-src.src.test
REHOME_TEST_SAMBA_SRC_NET=$dir/src/net
REHOME_TEST_SAMBA_DST_ADDRESS=127.0.0.3
REHOME_TEST_SAMBA_DST_REALM=DST.TEST
REHOME_TEST_SAMBA_DST_DOMAIN=DST
REHOME_TEST_SAMBA_DST_BASE_DN=DC=dst,DC=test
REHOME_TEST_SAMBA_DST_DC_NAME=dc-dst.dst.test
REHOME_TEST_SAMBA_DST_NET=$dir/dst/net
REHOME_TEST_SAMBA_NET=$dir/net
ENV
awk -v from="$started" -v to="$EPOCHREALTIME" \
  'BEGIN { printf "samba DCs SRC.TEST on 127.0.0.2 and DST.TEST on 127.0.0.3 up in %.1f s\n", to - from }'
