#!/bin/bash
# make test: every suite in order (unit, progs, syscalls, workloads, tty, security, oci, compat,
# clients), each suite's summary, and a last line "N passed, N failed" summed over the suites.
# Exits non-zero if anything failed.
# A suite runner ends its output with a line containing "N passed, N failed"; a runner that
# does not is counted as one test, passed or failed by its exit status.
set -uo pipefail
cd "$(dirname "$0")/.."

passed=0
xfailed=0
failed=0
skipped=()
summaries=()

run_suite() {
	local name=$1
	shift
	echo
	echo "===== $name ====="
	if [[ ! -x $1 ]]; then
		echo "!!!!! SKIPPED: $1 does not exist (or is not executable) !!!!!"
		skipped+=("$name")
		return
	fi
	local log
	log=$(mktemp)
	"$@" 2>&1 | tee "$log"
	local rc=${PIPESTATUS[0]}
	local line p f x
	line=$(grep -aoE '[0-9]+ passed, [0-9]+ failed' "$log" | tail -1)
	x=$(grep -aoE '[0-9]+ passed, [0-9]+ failed, [0-9]+ known failures' "$log" | tail -1)
	x=${x##*failed, }
	x=${x%% known*}
	rm -f "$log"
	if [[ -n $line ]]; then
		p=${line%% passed*}
		f=${line#*passed, }
		f=${f%% failed*}
		[[ $rc -ne 0 && $f -eq 0 ]] && f=1
	elif [[ $rc -eq 0 ]]; then
		p=1 f=0
	else
		p=0 f=1
	fi
	passed=$((passed + p))
	failed=$((failed + f))
	xfailed=$((xfailed + ${x:-0}))
	summaries+=("$(printf '%-18s %4d passed, %4d failed%s' "$name" "$p" "$f" \
		"${x:+, $x known failures (tests/known-failures.txt)}")")
}

# The Makefile passes the binaries it built; otherwise take what is in build/.
if [[ -n ${UNIT_BIN:-} ]]; then
	read -ra unit_bins <<<"$UNIT_BIN"
else
	unit_bins=()
	for f in build/tests/unit/test_*; do
		[[ -x $f && $f != *.* ]] && unit_bins+=("$f")
	done
fi
if [[ ${#unit_bins[@]} -eq 0 ]]; then
	echo "!!!!! SKIPPED: no unit test binaries in build/tests/unit !!!!!"
	skipped+=(unit)
else
	run_suite unit scripts/run-unit.sh "${unit_bins[@]}"
fi
# The suites that run programs in the sandbox run once per platform the binary offers (the
# --platform line of `runsc-c do --help`), or those in TEST_PLATFORMS.
if [[ -z ${TEST_PLATFORMS:-} ]]; then
	TEST_PLATFORMS=$(build/runsc-c do --help 2>/dev/null |
		sed -nE 's/.*--platform NAME[^:]*: ([a-z, ]+)( \(|$).*/\1/p' | tr -d ',')
fi
read -ra platforms <<<"${TEST_PLATFORMS:-ptrace}"
for plat in "${platforms[@]}"; do
	export RUNSC_DO_FLAGS="--platform=$plat"
	run_suite "progs:$plat" tests/progs/run.sh
	run_suite "syscalls:$plat" tests/syscalls/run.sh
	run_suite "workloads:$plat" tests/workloads/run.sh
	run_suite "tty:$plat" tests/tty/run.sh
	OCI_PLATFORM=$plat run_suite "oci:$plat" tests/oci/run.sh
	# systrap patches syscall sites by default; its trap-only path once more, syscalls only.
	if [[ $plat == systrap ]]; then
		export RUNSC_DO_FLAGS="--platform=$plat --syscall-patching=off"
		run_suite "syscalls:$plat-nopatch" tests/syscalls/run.sh
	fi
done
unset RUNSC_DO_FLAGS
run_suite security tests/security/run.sh
run_suite compat tests/compat/run.sh
# podman and containerd driving build/runsc-c (tests/oci/clients.sh installs them), once the
# binary has the OCI commands; `features` is the probe. All cases, compared with runc, on the
# default platform (systrap); on the others, without runc, the cases that exercise the most
# (exec with a terminal, pause, kill) to keep make test short.
if build/runsc-c features >/dev/null 2>&1; then
	RUNTIME=build/runsc-c run_suite clients tests/oci/clients.sh
	for plat in "${platforms[@]}"; do
		[[ $plat == systrap ]] && continue
		RUNTIME=build/runsc-c RUNTIME_FLAGS="--platform $plat" CLIENTS_REFERENCE=0 \
			run_suite "clients:$plat" tests/oci/clients.sh podman/exec podman/stop ctr/exec ctr/kill
	done
else
	echo
	echo "!!!!! SKIPPED: clients: build/runsc-c has no OCI commands yet (features fails) !!!!!"
	skipped+=(clients)
fi

echo
echo "===== summary ====="
for s in "${summaries[@]}"; do
	echo "$s"
done
if [[ ${#skipped[@]} -gt 0 ]]; then
	echo "!!!!! SKIPPED suites: ${skipped[*]} !!!!!"
fi
if ((xfailed)); then
	echo "$passed passed, $failed failed, $xfailed known failures"
else
	echo "$passed passed, $failed failed"
fi
[[ $failed -eq 0 ]]
