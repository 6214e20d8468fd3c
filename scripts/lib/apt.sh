# Sourced by the setup scripts: installs only the Debian packages that are missing, so that naming
# installed packages never upgrades others. `apt-get update` runs at most once per test run.
ensure_packages() {
  local missing=()
  local p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "installing: ${missing[*]}"
  local marker="${REHOME_TEST_RUN:-/tmp}/.apt-updated"
  if [ ! -e "$marker" ]; then
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    touch "$marker"
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}
