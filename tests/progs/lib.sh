# lib.sh: shared helpers for the integration runners (tests/progs, tests/workloads, tests/security).
# Sourced, not run. Bash only.
#
# A runner calls rt_init SUITE "$@", then rt_pair / rt_result for each test, then rt_finish.
#   rt_init parses: -v (verbose), -h, and FILTER... (substrings; a test runs if its name contains one).
#   Environment: RUNSC (default build/runsc-c; may carry global flags, e.g. "build/runsc-c --debug"),
#                RUNSC_DO_FLAGS (extra flags for `do`, e.g. "--platform ptrace"),
#                RT_TIMEOUT (seconds per run, default 60).
#   rt_pair runs a command natively and sandboxed with a stdin file; rt_pipe with a pipe;
#   rt_result records the verdict of a check the runner makes itself.
#   tests/known-failures.txt lists `suite/name  reason` lines: a listed test that fails is XFAIL
#   (counted apart: "N known failures" in the summary, not a pass); one that passes is reported
#   as XPASS (so the line can be removed).

RT_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$RT_ROOT" || exit 2

RT_VERBOSE=0
RT_FILTERS=()
RT_PASSED=0
RT_XFAILED=0 # failed, but listed in tests/known-failures.txt: neither passed nor failed
RT_FAILED=0
RT_SKIPPED=0
RT_MATCHED=0
RT_SORT_OUTPUT=0 # set to 1 around a pair whose output order may legitimately differ
RT_TIMEOUT=${RT_TIMEOUT:-60}
RUNSC=${RUNSC:-build/runsc-c}
read -r -a RT_RUNSC_CMD <<<"$RUNSC"
read -r -a RT_DO_FLAGS <<<"${RUNSC_DO_FLAGS:-}"
declare -A RT_KNOWN=()

# rt_init SUITE ARGS...: parses the command line, loads the known failures, makes a scratch dir.
rt_init() {
	RT_SUITE=$1
	shift
	local a
	for a in "$@"; do
		case $a in
		-v | --verbose) RT_VERBOSE=1 ;;
		-h | --help)
			echo "usage: $0 [-v] [FILTER...]   (RUNSC, RUNSC_DO_FLAGS, RT_TIMEOUT from the environment)"
			exit 0
			;;
		-*)
			echo "$0: unknown option $a" >&2
			exit 2
			;;
		*) RT_FILTERS+=("$a") ;;
		esac
	done
	local line name reason
	if [[ -f tests/known-failures.txt ]]; then
		while IFS= read -r line || [[ -n $line ]]; do
			line=${line%%#*}
			read -r name reason <<<"$line"
			[[ -n $name ]] && RT_KNOWN[$name]=${reason:-listed}
		done <tests/known-failures.txt
	fi
	RT_TMP=$(mktemp -d "/tmp/runsc-c-$RT_SUITE.XXXXXX")
	trap 'rm -rf "$RT_TMP"' EXIT
	if [[ ! -x ${RT_RUNSC_CMD[0]} ]]; then
		echo "note: ${RT_RUNSC_CMD[0]} is not an executable; every sandboxed run will fail" >&2
	fi
}

# rt_selected NAME: true if NAME passes the filters (and counts it as matched).
rt_selected() {
	local f
	if ((${#RT_FILTERS[@]} == 0)); then
		RT_MATCHED=$((RT_MATCHED + 1))
		return 0
	fi
	for f in "${RT_FILTERS[@]}"; do
		if [[ $1 == *"$f"* ]]; then
			RT_MATCHED=$((RT_MATCHED + 1))
			return 0
		fi
	done
	return 1
}

rt_log() {
	((RT_VERBOSE)) && printf '%s\n' "$*"
	return 0
}

# rt_exec OUT ERR IN CMD...: runs CMD with a timeout and no core dumps; sets RT_STATUS to its
# shell-style status (128 + signal when killed).
rt_exec() {
	local out=$1 err=$2 in=$3
	shift 3
	(
		ulimit -c 0
		timeout -k 5 "$RT_TIMEOUT" "$@"
		exit $?
	) <"$in" >"$out" 2>"$err"
	RT_STATUS=$?
}

# rt_exec_pipe OUT ERR PRODUCER CMD...: like rt_exec, with stdin a pipe fed by the shell
# snippet PRODUCER; sets RT_STATUS to CMD's status.
rt_exec_pipe() {
	local out=$1 err=$2 producer=$3
	shift 3
	(
		ulimit -c 0
		bash -c "$producer" | timeout -k 5 "$RT_TIMEOUT" "$@"
		exit "${PIPESTATUS[1]}"
	) </dev/null >"$out" 2>"$err"
	RT_STATUS=$?
}

# rt_sandbox_cmd CMD...: sets RT_SB to the sandboxed form of CMD.
rt_sandbox_cmd() {
	RT_SB=("${RT_RUNSC_CMD[@]}" "do" "${RT_DO_FLAGS[@]}" -- "$@")
}

# rt_result NAME pass|fail|skip [DETAIL...]: records a result, applying the known-failures list.
rt_result() {
	local name=$1 verdict=$2
	shift 2
	local full="$RT_SUITE/$name" known=${RT_KNOWN["$RT_SUITE/$name"]-}
	case $verdict in
	pass)
		RT_PASSED=$((RT_PASSED + 1))
		if [[ -n $known ]]; then
			echo "XPASS $full (listed in tests/known-failures.txt: $known)"
		else
			rt_log "PASS  $full"
		fi
		;;
	fail)
		if [[ -n $known ]]; then
			RT_XFAILED=$((RT_XFAILED + 1))
			echo "XFAIL $full ($known)"
			((RT_VERBOSE)) && [[ $# -gt 0 ]] && printf '%s\n' "$@" | sed 's/^/      /'
		else
			RT_FAILED=$((RT_FAILED + 1))
			echo "FAIL  $full"
			[[ $# -gt 0 ]] && printf '%s\n' "$@" | sed 's/^/      /'
		fi
		;;
	skip)
		RT_SKIPPED=$((RT_SKIPPED + 1))
		echo "SKIP  $full${1:+: $1}"
		;;
	esac
}

# rt_tail FILE N: the last N lines of FILE (all of them when verbose).
rt_tail() {
	if ((RT_VERBOSE)); then cat "$1"; else tail -n "$2" "$1"; fi
}

# rt_pair NAME EXPECTED_STATUS STDIN CMD...: runs CMD natively and in the sandbox with STDIN
# (a file, e.g. /dev/null). Passes when the native status is EXPECTED_STATUS ("any" to accept
# whatever it is) and the sandbox gives the same stdout and the same status.
rt_pair() {
	local name=$1 want=$2 in=$3
	shift 3
	rt_selected "$name" || return 0
	local d="$RT_TMP/$name"
	mkdir -p "$d"
	rt_sandbox_cmd "$@"
	rt_log "----- $RT_SUITE/$name: $*"
	local ns ss
	rt_exec "$d/native.out" "$d/native.err" "$in" "$@"
	ns=$RT_STATUS
	rt_exec "$d/sandbox.out" "$d/sandbox.err" "$in" "${RT_SB[@]}"
	ss=$RT_STATUS
	rt_compare "$name" "$want" "$ns" "$ss" "$d" "$*"
}

# rt_pipe NAME EXPECTED_STATUS PRODUCER CMD...: rt_pair with stdin a pipe from the shell
# snippet PRODUCER (run once for each side).
rt_pipe() {
	local name=$1 want=$2 producer=$3
	shift 3
	rt_selected "$name" || return 0
	local d="$RT_TMP/$name"
	mkdir -p "$d"
	rt_sandbox_cmd "$@"
	rt_log "----- $RT_SUITE/$name: $producer | $*"
	local ns ss
	rt_exec_pipe "$d/native.out" "$d/native.err" "$producer" "$@"
	ns=$RT_STATUS
	rt_exec_pipe "$d/sandbox.out" "$d/sandbox.err" "$producer" "${RT_SB[@]}"
	ss=$RT_STATUS
	rt_compare "$name" "$want" "$ns" "$ss" "$d" "$producer | $*"
}

# rt_compare NAME WANT NATIVE_STATUS SANDBOX_STATUS DIR CMDTEXT: the verdict of one pair run
# whose outputs are in DIR/{native,sandbox}.{out,err}.
rt_compare() {
	local name=$1 want=$2 ns=$3 ss=$4 d=$5 cmd=$6
	local msgs=()
	if ((RT_SORT_OUTPUT)); then
		sort -o "$d/native.out" "$d/native.out"
		sort -o "$d/sandbox.out" "$d/sandbox.out"
	fi
	if [[ $want != any && $ns != "$want" ]]; then
		msgs+=("native run exited $ns, expected $want (a broken test, or a host difference): $cmd")
		msgs+=("native stderr:" "$(rt_tail "$d/native.err" 10)")
		rt_result "$name" fail "${msgs[@]}"
		return
	fi
	if [[ $ss != "$ns" ]]; then
		msgs+=("status: native $ns, sandbox $ss$( ((ss == 124)) && echo ' (timed out?)')")
	fi
	if [[ -s $d/native.out && ! -s $d/sandbox.out ]]; then
		msgs+=("sandbox stdout is empty (native printed $(wc -l <"$d/native.out") lines)")
	elif ! cmp -s "$d/native.out" "$d/sandbox.out"; then
		msgs+=("stdout differs (--- native, +++ sandbox):")
		if ((RT_VERBOSE)); then
			msgs+=("$(diff -u "$d/native.out" "$d/sandbox.out" | tail -n +3)")
		else
			msgs+=("$(diff -u "$d/native.out" "$d/sandbox.out" | tail -n +3 | head -n 40)")
		fi
	fi
	if ((${#msgs[@]})); then
		msgs+=("command: ${RT_SB[*]}")
		if [[ -s $d/sandbox.err ]]; then
			msgs+=("sandbox stderr (tail):" "$(rt_tail "$d/sandbox.err" 15)")
		fi
		rt_result "$name" fail "${msgs[@]}"
	else
		rt_result "$name" pass
		if ((RT_VERBOSE)); then
			sed 's/^/      | /' "$d/native.out" | head -n 20
		fi
	fi
}

# rt_finish: prints the one summary line and exits 1 if anything failed.
rt_finish() {
	if ((${#RT_FILTERS[@]} && RT_MATCHED == 0)); then
		echo "no $RT_SUITE test matches: ${RT_FILTERS[*]}" >&2
		RT_FAILED=$((RT_FAILED + 1))
	fi
	local line="$RT_SUITE: $RT_PASSED passed, $RT_FAILED failed"
	((RT_XFAILED)) && line+=", $RT_XFAILED known failures"
	((RT_SKIPPED)) && line+=", $RT_SKIPPED skipped"
	echo "$line"
	((RT_FAILED == 0))
	exit $?
}
