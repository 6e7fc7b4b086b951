#!/usr/bin/env bash
# Installs the Debian packages listed in .ci/packages.txt that are missing.
# Safe to run repeatedly: it calls apt-get only when something is missing.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
mapfile -t wanted < <(grep -v '^\s*#' "$here/packages.txt" | grep -v '^\s*$')
# Names that installed packages provide count as installed: NodeSource's nodejs provides
# (and conflicts with) npm, and asking apt for Debian's npm there would fail.
mapfile -t provided < <(dpkg-query -W -f='${Status}|${Provides}\n' 2>/dev/null | grep '^install ok installed|' |
  cut -d'|' -f2 | tr ',' '\n' | sed 's/(.*)//; s/[[:space:]]//g' | grep -v '^$')
missing=()
for p in "${wanted[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" && continue
  printf '%s\n' "${provided[@]}" | grep -qxF "$p" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
echo "gopcast: installing ${missing[*]}" >&2
sudo_cmd=()
[ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
