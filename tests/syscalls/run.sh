#!/bin/bash
# run.sh: runs every tests/syscalls program natively and in the sandbox. Each program checks
# Linux behaviour itself and exits non-zero on a failed check; the native and sandboxed runs must
# both exit 0 and print the same stdout.
#   tests/syscalls/run.sh [-v] [FILTER...]     (build them first: make syscalls)
# See tests/progs/lib.sh for RUNSC, RUNSC_DO_FLAGS, RT_TIMEOUT and tests/known-failures.txt.
# shellcheck source=tests/progs/lib.sh
source "$(dirname "$0")/../progs/lib.sh"
rt_init syscalls "$@"

for src in tests/syscalls/*.c; do
	name=$(basename "$src" .c)
	bin=build/tests/syscalls/$name
	if [[ ! -x $bin ]]; then
		rt_selected "$name" || continue
		rt_result "$name" fail "$bin is not built (run: make syscalls)"
		continue
	fi
	rt_pair "$name" 0 /dev/null "$bin"
done
rt_finish
