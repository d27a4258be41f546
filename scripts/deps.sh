#!/bin/bash
# make deps: install the Debian packages the build and the tests need, only those missing.
# Quiet and idempotent when everything is present; apt-get update runs once, only if needed.
set -euo pipefail

PACKAGES=(
	build-essential pkg-config   # compiler, make
	libseccomp-dev               # seccomp filters of the Sentry, the gofer and the stubs
	liburing-dev                 # gofer I/O
	libxxhash-dev                # dentry and inode hash tables
	libcriterion-dev             # unit tests
	busybox-static               # static programs for the workload tests and the demo
	strace                       # the security tests trace the Sentry's host syscalls
	python3 nodejs               # the runtime workloads (tests/workloads/runtimes.sh)
)

missing=()
for p in "${PACKAGES[@]}"; do
	[[ $p == \#* ]] && continue
	status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	[[ $status == "install ok installed" ]] || missing+=("$p")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

if [[ $(id -u) -ne 0 ]]; then
	echo "deps: missing packages: ${missing[*]}" >&2
	echo "deps: run as root, or: sudo apt-get install -y ${missing[*]}" >&2
	exit 1
fi
echo "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "deps: done"
