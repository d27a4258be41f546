#!/bin/bash
# make demo: run a few real programs in the sandbox and show what they print.
set -uo pipefail
cd "$(dirname "$0")/.."

RUNSC=build/runsc-c
BUSYBOX=/bin/busybox
failed=0

run() {
	echo
	echo "\$ runsc-c do -- $*"
	"$RUNSC" do -- "$@"
	local rc=$?
	echo "[exit status $rc]"
	return $rc
}

echo "=== runsc-c demo: programs running on the Sentry, files served by the gofer ==="
run "$BUSYBOX" cat /etc/os-release || failed=1
run "$BUSYBOX" uname -a || failed=1
run "$BUSYBOX" ls /etc/apt || failed=1
run "$BUSYBOX" sha256sum /etc/os-release || failed=1
echo
echo "=== the same sha256sum, natively ==="
"$BUSYBOX" sha256sum /etc/os-release
echo
echo "=== the Sentry's seccomp allowlist ==="
"$RUNSC" debug seccomp | head -1
if [[ $failed -ne 0 ]]; then
	echo "demo: a sandboxed program failed" >&2
	exit 1
fi
