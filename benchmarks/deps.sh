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

exec "$(dirname "$0")/../scripts/apt-install.sh" "bench deps" "${PACKAGES[@]}"
