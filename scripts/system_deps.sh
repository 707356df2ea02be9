#!/usr/bin/env bash
# Debian packages yipanqi needs beyond Python: PostgreSQL server binaries (throwaway test clusters), gettext
# (compilemessages), chromium (browser tests), CJK fonts and Pango (bulletins as PDF, screenshots), wrk (benchmarks).
# Installs what is missing when run as root; otherwise says what to install. With CI=true a missing one fails.
set -euo pipefail
want=("$@")
[ ${#want[@]} -gt 0 ] || want=(postgresql gettext chromium fonts-noto-cjk libpango-1.0-0 libpangoft2-1.0-0)
have() {
  case "$1" in
    postgresql) ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 ;;
    gettext) command -v msgfmt >/dev/null ;;
    chromium) [ -x /usr/bin/chromium ] ;;
    fonts-noto-cjk) dpkg -s fonts-noto-cjk >/dev/null 2>&1 ;;
    wrk) command -v wrk >/dev/null ;;
    *) dpkg -s "$1" >/dev/null 2>&1 ;;
  esac
}
missing=()
for pkg in "${want[@]}"; do have "$pkg" || missing+=("$pkg"); done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  for pkg in "${missing[@]}"; do have "$pkg" || { echo "failed to install $pkg" >&2; exit 1; }; done
  exit 0
fi
echo "missing Debian packages: ${missing[*]} (run: sudo apt-get install ${missing[*]})" >&2
exit 1
