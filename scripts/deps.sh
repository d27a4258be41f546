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
)

exec "$(dirname "$0")/apt-install.sh" deps "${PACKAGES[@]}"
