#!/bin/bash
# deps.sh: install the Debian packages the benchmarks need, only those missing (never part of
# `make test`).
#   benchmarks/deps.sh            python3 and gnuplot, for the report and the plots, and gcc, git
#                                 and node for the runtime workloads (make bench-deps)
#   benchmarks/deps.sh --peers    also the sandboxes compared against (make bench-peers): gVisor's
#                                 runsc (Debian's package, ptrace platform), proot, bubblewrap
set -euo pipefail

PACKAGES=(python3 gnuplot-nox gcc libc6-dev git nodejs)
if [[ ${1:-} == --peers ]]; then
	PACKAGES+=(runsc proot bubblewrap)
elif [[ $# -gt 0 ]]; then
	echo "usage: benchmarks/deps.sh [--peers]" >&2
	exit 2
fi

missing=()
for p in "${PACKAGES[@]}"; do
	status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	[[ $status == "install ok installed" ]] || missing+=("$p")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

if [[ $(id -u) -ne 0 ]]; then
	echo "bench deps: missing packages: ${missing[*]}" >&2
	echo "bench deps: run as root, or: sudo apt-get install -y ${missing[*]}" >&2
	exit 1
fi
echo "bench deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "bench deps: done"
