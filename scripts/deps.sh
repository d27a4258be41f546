#!/bin/bash
# make deps: install the Debian packages the build and the tests need, only those missing.
# Quiet and idempotent when everything is present; apt-get update runs once, only if needed.
set -euo pipefail

PACKAGES=(
	build-essential pkg-config   # compiler, make
	libseccomp-dev               # seccomp filters of the Sentry, the gofer and the stubs
	liburing-dev                 # gofer I/O
	libxxhash-dev                # dentry and inode hash tables
	libjson-c-dev                # the OCI commands: config.json, state and log JSON
	libcap-dev                   # the OCI commands: capability names of config.json
	libcriterion-dev             # unit tests
	busybox-static               # static programs for the workload tests and the demo
	strace                       # the security tests trace the Sentry's host syscalls
	perl gcc libc6-dev binutils  # tests/workloads/toolchain.sh: perl, gcc (cc1, as, ld)
	git sqlite3 make             # ... and git, the sqlite3 CLI, make -j2
	jq                           # the OCI tests read config.json, state and features
	python3 nodejs               # the runtime workloads (tests/workloads/runtimes.sh)
)

exec "$(dirname "$0")/apt-install.sh" deps "${PACKAGES[@]}"
