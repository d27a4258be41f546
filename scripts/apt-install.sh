#!/bin/bash
# apt-install.sh: installs the Debian packages given that are missing; the one place that knows how.
#   scripts/apt-install.sh LABEL PACKAGE...   (LABEL starts each message, e.g. "deps")
# Quiet and quick when everything is present; apt-get update runs once, only if something is
# missing; waits for another apt holding the lock rather than failing. Needs root to install.
set -euo pipefail

label=$1
shift
missing=()
for p in "$@"; do
	[[ $p == \#* ]] && continue
	status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	[[ $status == "install ok installed" ]] || missing+=("$p")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

if [[ $(id -u) -ne 0 ]]; then
	echo "$label: missing packages: ${missing[*]}" >&2
	echo "$label: run as root, or: sudo apt-get install -y ${missing[*]}" >&2
	exit 1
fi
echo "$label: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt=(apt-get -o DPkg::Lock::Timeout=300 -qq)
"${apt[@]}" update
"${apt[@]}" install -y --no-install-recommends "${missing[@]}" >/dev/null
echo "$label: done"
