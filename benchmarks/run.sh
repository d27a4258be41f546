#!/bin/bash
# run.sh: the benchmark suite. Runs every benchmark natively, under `runsc-c do` on every platform
# and under the peers that are installed (gVisor's runsc, proot, bwrap), interleaved (each round
# runs each benchmark once per runner, round-robin), then writes benchmarks/results/latest.json
# (machine, runners, every measurement), latest.md (a table of medians and ratios to native) and
# latest.png / latest.svg (ratios to native, log scale) and fork_cow.png / fork_cow.svg.
#   benchmarks/run.sh              (`make bench` builds everything first, then runs this)
# The benchmarks:
#   micro      the static programs build/benchmarks/* (benchmarks/*.c), run inside each runner
#   workloads  whole commands under each runner, timed from the host by build/benchmarks/tools/cmdtime:
#              /bin/true, python3 -c pass, a busybox sh script, find /usr | wc -l, sha256sum of 100 MB,
#              the runtimes: a Python script (tests/workloads/runtimes/python_mix.py), gcc compiling
#              and linking a C file, the git sequence of the tests, a node http request loop
#   fork_cow   fork of a 512 MiB resident process (native and runsc-c only)
#   memory     RSS of an idle `sleep 60` sandbox
# Environment:
#   RUNSC             the runsc-c binary (default build/runsc-c)
#   BENCH_RUNNERS     the runners, e.g. "native ptrace gvisor" (default: native, every platform that
#                     `runsc-c do --help` lists, and gvisor, proot, bwrap when installed and working)
#   BENCH_ONLY        run only the benchmarks whose name matches this extended regex
#   BENCH_ROUNDS      rounds (default 3); BENCH_HEAVY_ROUNDS: rounds of find and fork_cow (default 1);
#                     BENCH_MEM_ROUNDS: rounds of the memory measurement (default 1)
#   BENCH_TARGET_MS   length of a microbenchmark's timed batch (default 300)
#   BENCH_TIMEOUT     seconds per run before it counts as failed (default 120)
#   BENCH_OUT         output directory (default benchmarks/results)
#   BENCH_README      a file with benchmark markers (README.md) to update with the table and plots
# A run that fails keeps what it printed; the table says "failed" where a measurement is missing.
# Speed is never asserted: exits 0 when the native runs worked, whatever the sandboxes did.
# The bench_* functions are called through run_one, which shellcheck cannot see.
# shellcheck disable=SC2317
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1

RUNSC=${RUNSC:-build/runsc-c}
ROUNDS=${BENCH_ROUNDS:-3}
HEAVY_ROUNDS=${BENCH_HEAVY_ROUNDS:-1}
MEM_ROUNDS=${BENCH_MEM_ROUNDS:-1}
TARGET_MS=${BENCH_TARGET_MS:-300}
TIMEOUT=${BENCH_TIMEOUT:-120}
OUT=${BENCH_OUT:-benchmarks/results}
ONLY=${BENCH_ONLY:-}
BIN=build/benchmarks
CMDTIME=$BIN/tools/cmdtime
RUNSC_SHOWN=$RUNSC
RUNSC=$(realpath "$RUNSC" 2>/dev/null || echo "$RUNSC")

# The microbenchmarks, in table order; then any other static program in build/benchmarks.
MICRO_ORDER=(getpid clock_gettime open_close stat read_4k write_devnull pipe_pingpong mmap_touch
	fork_wait fork_exec thread_create compute_syscall)

for f in "$CMDTIME" "$BIN/getpid"; do
	if [[ ! -x $f ]]; then
		echo "bench: $f is missing (run: make bench)" >&2
		exit 1
	fi
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/runsc-c-bench.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM
: >"$tmp/results.jsonl"
: >"$tmp/failures.tsv"
: >"$tmp/runners.tsv"
: >"$tmp/skipped.tsv"

# --- Runners: an id, a label, and the command prefix that runs a program under it. ---

declare -A PREFIX LABEL
PREFIX[native]=""
LABEL[native]="native"
PREFIX[gvisor]="runsc --rootless --network=none do"
LABEL[gvisor]="gVisor runsc"
PREFIX[proot]="proot -r /"
LABEL[proot]="proot"
PREFIX[bwrap]="bwrap --ro-bind / / --unshare-all --dev /dev --proc /proc"
LABEL[bwrap]="bwrap"

# The platforms `do --help` lists: "  --platform NAME    how application code is run: a, b (default a)".
platforms_from_help() {
	local line list
	line=$("$RUNSC" "do" --help 2>/dev/null | grep -m1 -- '--platform')
	list=${line#*: }
	list=${list%%(*}
	tr ',|/' '   ' <<<"$list" | tr -s ' ' '\n' | grep -E '^[a-z0-9_-]+$'
}

# runner_cmd ID: prints the prefix words of runner ID, one a line.
runner_cmd() {
	local id=$1
	if [[ -v "PREFIX[$id]" ]]; then
		[[ -n ${PREFIX[$id]} ]] && tr ' ' '\n' <<<"${PREFIX[$id]}"
	else
		printf '%s\n' "$RUNSC" "do" --platform "$id" --
	fi
	return 0
}

is_runsc_c() { [[ ! -v "PREFIX[$1]" ]]; }

label() {
	if is_runsc_c "$1"; then echo "runsc-c $1"; else echo "${LABEL[$1]}"; fi
}

# usable ID: 0 when runner ID runs /bin/true; else prints why not.
usable() {
	local id=$1 prefix err
	mapfile -t prefix < <(runner_cmd "$id")
	if ((${#prefix[@]})) && ! command -v "${prefix[0]}" >/dev/null; then
		echo "${prefix[0]} is not installed (make bench-peers)"
		return 1
	fi
	if ! err=$(timeout -k 5 30 "${prefix[@]}" /bin/true 2>&1 </dev/null); then
		echo "\`/bin/true\` failed under it: $(tail -n 1 <<<"$err")"
		return 1
	fi
}

if [[ -n ${BENCH_RUNNERS:-} ]]; then
	read -ra candidates <<<"$BENCH_RUNNERS"
else
	mapfile -t platforms < <([[ -x $RUNSC ]] && platforms_from_help)
	((${#platforms[@]})) || platforms=(ptrace)
	candidates=(native "${platforms[@]}" gvisor proot bwrap)
fi
runners=()
for id in "${candidates[@]}"; do
	if why=$(usable "$id"); then
		runners+=("$id")
		status=ok
	else
		echo "bench: skipping $(label "$id"): $why" >&2
		status="skipped: $why"
	fi
	printf '%s\t%s\t%s\t%s\n' "$id" "$(label "$id")" \
		"$(runner_cmd "$id" | paste -sd' ' | sed "s|^$RUNSC |$RUNSC_SHOWN |")" "$status" \
		>>"$tmp/runners.tsv"
done
if [[ ${runners[0]:-} != native ]]; then
	echo "bench: native runs do not work" >&2
	exit 1
fi

# --- The benchmarks. Each is a function NAME RUNNER ROUND writing JSON lines to $tmp/out. ---

micro=()
for m in "${MICRO_ORDER[@]}"; do
	[[ -x $BIN/$m ]] && micro+=("$m")
done
for f in "$BIN"/*; do
	m=$(basename "$f")
	[[ -f $f && -x $f && $m != fork_cow && " ${micro[*]} " != *" $m "* ]] && micro+=("$m")
done

# bench_micro PROGRAM RUNNER: the static program, inside the runner.
bench_micro() {
	local prefix
	mapfile -t prefix < <(runner_cmd "$2")
	"${prefix[@]}" "$(realpath "$BIN/$1")" --target-ms "$TARGET_MS"
}

# bench_fork_cow _ RUNNER: fork of a 512 MiB process (benchmarks/fork_cow.c).
bench_fork_cow() {
	local prefix
	mapfile -t prefix < <(runner_cmd "$2")
	"${prefix[@]}" "$(realpath "$BIN/fork_cow")" --budget-ms 300
}

# workload NAME RUNNER [--writes-tmp] [CMDTIME FLAGS] -- CMD...: CMD under the runner, timed by
# cmdtime. --writes-tmp: CMD writes to /tmp, which bwrap's read-only root lacks, so bwrap gets a
# tmpfs there (the others have a writable /tmp: the sandboxes their own tmpfs, proot the host's).
workload() {
	local name=$1 runner=$2 prefix flags=()
	mapfile -t prefix < <(runner_cmd "$runner")
	shift 2
	while [[ $1 != -- ]]; do
		if [[ $1 == --writes-tmp ]]; then
			[[ $runner == bwrap ]] && prefix+=(--tmpfs /tmp)
		else
			flags+=("$1")
		fi
		shift
	done
	shift
	"$CMDTIME" --name "$name" "${flags[@]}" -- "${prefix[@]}" "$@"
}

bench_true() { workload true "$2" --budget-ms 500 --max-runs 30 -- /bin/true; }
bench_python3() { workload python3 "$2" --budget-ms 500 --max-runs 30 -- /usr/bin/python3 -c pass; }
bench_busybox_sh() {
	workload busybox_sh "$2" --budget-ms 500 --max-runs 20 -- \
		/bin/busybox sh "$PWD/benchmarks/workloads/busybox.sh"
}
# The runtimes (issue 5): their scripts make their own temp dirs under /tmp.
PYTHON_MIX=tests/workloads/runtimes/python_mix.py
bench_python_mix() {
	workload python_mix "$2" --writes-tmp --budget-ms 1000 --max-runs 10 -- /usr/bin/python3 "$PWD/$PYTHON_MIX"
}
bench_gcc() {
	workload gcc "$2" --writes-tmp --budget-ms 1000 --max-runs 10 -- /bin/sh "$PWD/benchmarks/workloads/gcc.sh"
}
bench_git() {
	workload git "$2" --writes-tmp --budget-ms 1000 --max-runs 10 -- \
		/bin/bash "$PWD/tests/workloads/toolchain/git_seq.sh"
}
bench_node_http() {
	workload node_http "$2" --budget-ms 1000 --max-runs 10 -- \
		/usr/bin/node "$PWD/benchmarks/workloads/http_loop.js"
}
bench_find() {
	workload find "$2" --warmup 0 --min-runs 1 --budget-ms 0 -- \
		/bin/sh -c "find /usr -name '*.h' | wc -l"
}
bench_sha256sum() {
	workload sha256sum "$2" --warmup 0 --min-runs 1 --budget-ms 0 -- \
		/usr/bin/sha256sum "$tmp/data/100mb"
}

# proc_tree PID: PID and its descendants, one a line.
proc_tree() {
	local queue=("$1") p c=()
	while ((${#queue[@]})); do
		p=${queue[0]}
		queue=("${queue[@]:1}")
		echo "$p"
		read -ra c < <(cat /proc/"$p"/task/*/children 2>/dev/null | tr '\n' ' ')
		queue+=("${c[@]}")
	done
}

# kib_of FIELD FILE: the value in kB of "FIELD:" in a /proc status-like file, or 0.
kib_of() { awk -v f="$1:" '$1 == f { print $2; found = 1 } END { if (!found) print 0 }' "$2" 2>/dev/null || echo 0; }

# bench_idle_memory _ RUNNER: start `sleep 60` under the runner, let it settle, and sum the VmRSS
# (and Pss) of (a) every process of the runner's tree, the sleep included, and (b) the runtime's
# processes: the Sentry (`runsc-c boot`; gVisor: `runsc-sandbox`), the gofer (`runsc-c gofer`;
# `runsc-gofer`) and the Sentry's children (the stubs); for proot and bwrap, the tree less the
# sleep. The JSON lines also give the runtime's parts: sentry_kib, gofer_kib, stubs_kib, other_kib.
bench_idle_memory() {
	local prefix pid p args rss pss role alive=0
	local -A sum=() roles=()
	mapfile -t prefix < <(runner_cmd "$2")
	"${prefix[@]}" /bin/sleep 60 </dev/null >/dev/null 2>&1 &
	pid=$!
	sleep 1.5
	# Roles: the Sentry and the gofer by their command lines, the stubs as the Sentry's children.
	for p in $(proc_tree "$pid"); do
		args=$(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null) || continue
		case $args in
		"runsc-c boot "* | runsc-sandbox*)
			for c in $(proc_tree "$p"); do roles[$c]=stubs; done
			roles[$p]=sentry
			;;
		"runsc-c gofer "* | runsc-gofer*) roles[$p]=gofer ;;
		esac
	done
	for p in $(proc_tree "$pid"); do
		rss=$(kib_of VmRSS "/proc/$p/status")
		pss=$(kib_of Pss "/proc/$p/smaps_rollup")
		args=$(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null)
		role=${roles[$p]:-}
		if [[ -z $role ]]; then
			# Not part of a Sentry/gofer pair: the launcher (runsc-c do, runsc do) or the guest
			# (native, proot, bwrap: the sleep itself), or proot's or bwrap's own processes.
			if [[ $2 == native || $args == "/bin/sleep 60 " ]]; then
				role=guest
			elif ((${#roles[@]})); then
				role=launcher
			else
				role=other
			fi
		fi
		sum[all]=$((${sum[all]:-0} + rss))
		sum[all_pss]=$((${sum[all_pss]:-0} + pss))
		sum[$role]=$((${sum[$role]:-0} + rss))
		if [[ $role != guest && $role != launcher ]]; then
			sum[rt]=$((${sum[rt]:-0} + rss))
			sum[rt_pss]=$((${sum[rt_pss]:-0} + pss))
		fi
	done
	kill -0 "$pid" 2>/dev/null && alive=1
	# shellcheck disable=SC2046 # one pid a word
	kill -TERM $(proc_tree "$pid") 2>/dev/null
	sleep 0.2
	# shellcheck disable=SC2046
	kill -KILL $(proc_tree "$pid") 2>/dev/null
	wait "$pid" 2>/dev/null
	if ((!alive)); then
		echo "bench: the sandbox ended before it was measured" >&2
		return 1
	fi
	printf '{"bench":"idle_rss_all","unit":"KiB","value":%d,"pss_kib":%d,"launcher_kib":%d}\n' \
		"${sum[all]}" "${sum[all_pss]}" "${sum[launcher]:-0}"
	[[ $2 == native ]] && return 0
	printf '{"bench":"idle_rss_runtime","unit":"KiB","value":%d,"pss_kib":%d,' "${sum[rt]:-0}" \
		"${sum[rt_pss]:-0}"
	printf '"sentry_kib":%d,"gofer_kib":%d,"stubs_kib":%d,"other_kib":%d}\n' "${sum[sentry]:-0}" \
		"${sum[gofer]:-0}" "${sum[stubs]:-0}" "${sum[other]:-0}"
}

# Items in table order: name, function, rounds, which runners ("all" or "runsc-c").
items=()
add() { [[ -z $ONLY || $1 =~ $ONLY ]] && items+=("$1 $2 $3 $4"); return 0; }
for m in "${micro[@]}"; do add "$m" bench_micro "$ROUNDS" all; done
add true bench_true "$ROUNDS" all
add python3 bench_python3 "$ROUNDS" all
add busybox_sh bench_busybox_sh "$ROUNDS" all
add find bench_find "$HEAVY_ROUNDS" all
add sha256sum bench_sha256sum "$ROUNDS" all
# skip NAME WHY: a benchmark that cannot run here, named under the table.
skip() { [[ -z $ONLY || $1 =~ $ONLY ]] && printf '%s\t%s\n' "$1" "$2" >>"$tmp/skipped.tsv"; return 0; }
if [[ -f $PYTHON_MIX ]]; then
	add python_mix bench_python_mix "$ROUNDS" all
else
	skip python_mix "$PYTHON_MIX is missing"
fi
for t in gcc:gcc git:git node_http:node; do
	if command -v "${t#*:}" >/dev/null; then
		add "${t%%:*}" "bench_${t%%:*}" "$ROUNDS" all
	else
		skip "${t%%:*}" "${t#*:} is not installed"
	fi
done
[[ -x $BIN/fork_cow ]] && add fork_cow bench_fork_cow "$HEAVY_ROUNDS" runsc-c
add idle_memory bench_idle_memory "$MEM_ROUNDS" all

# run_one ITEM-NAME FUNCTION RUNNER ROUND: one run; tags its JSON lines with runner and round.
run_one() {
	local name=$1 fn=$2 runner=$3 round=$4 status reason arg=$1
	[[ $fn == bench_micro ]] || arg=_
	(
		ulimit -c 0
		# shellcheck disable=SC2163 # the function named by $fn
		export -f runner_cmd is_runsc_c workload proc_tree kib_of "$fn"
		export RUNSC BIN CMDTIME TARGET_MS tmp PYTHON_MIX
		exec timeout -k 5 "$TIMEOUT" bash -c "$(declare -p PREFIX); $fn \"\$@\"" _ "$arg" "$runner"
	) </dev/null >"$tmp/out" 2>"$tmp/err"
	status=$?
	grep -a '^{.*}$' "$tmp/out" |
		sed "s/^{/{\"runner\":\"$runner\",\"round\":$round,/" >>"$tmp/results.jsonl"
	if ((status != 0)); then
		if ((status == 124 || status == 137)); then
			reason="timed out after ${TIMEOUT}s"
		else
			reason="exit status $status: $(grep -a . "$tmp/err" | tail -n 1)"
		fi
		printf '%s\t%s\t%s\t%s\n' "$runner" "$name" "$round" "$reason" >>"$tmp/failures.tsv"
		printf '  %-9s %-14s round %d: failed (%s)\n' "$runner" "$name" "$round" "$reason"
	else
		printf '  %-9s %-14s round %d: %s\n' "$runner" "$name" "$round" \
			"$(grep -a -o '"ns_per_op":[0-9.]*\|"value":[0-9]*' "$tmp/out" | head -n 1)"
	fi
}

# The workloads' inputs: a 100 MB file, and the page cache warm for it and for /usr.
mkdir -p "$tmp/data"
head -c 100000000 /dev/urandom >"$tmp/data/100mb"
cat "$tmp/data/100mb" >/dev/null
find /usr -name '*.h' >/dev/null 2>&1

echo "bench: runners: ${runners[*]}; $ROUNDS round(s)"
start=$SECONDS
load_start=$(cut -d' ' -f1 /proc/loadavg)
for ((round = 1; round <= ROUNDS; round++)); do
	for item in "${items[@]}"; do
		read -r name fn rounds which <<<"$item"
		((round <= rounds)) || continue
		for runner in "${runners[@]}"; do
			[[ $which == runsc-c && $runner != native ]] && ! is_runsc_c "$runner" && continue
			run_one "$name" "$fn" "$runner" "$round"
		done
	done
done
echo "bench: ran for $((SECONDS - start)) s"

# --- The report. ---
mkdir -p "$OUT"
{
	printf '{"date":"%s",' "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
	printf '"cpu":"%s",' "$(grep -m1 '^model name' /proc/cpuinfo | sed 's/^[^:]*: *//; s/["\\]//g')"
	printf '"nproc":%d,"kernel":"%s",' "$(nproc)" "$(uname -r)"
	printf '"mem_total_kib":%d,' "$(kib_of MemTotal /proc/meminfo)"
	printf '"loadavg_start":%s,"loadavg_end":%s,"seconds":%d,' "$load_start" \
		"$(cut -d' ' -f1 /proc/loadavg)" "$((SECONDS - start))"
	# shellcheck disable=SC1091
	printf '"os":"%s",' "$(. /etc/os-release && echo "$PRETTY_NAME")"
	printf '"runsc_c":"%s",' "$("$RUNSC" --version 2>/dev/null | head -n 1)"
	commit=$(git rev-parse --short HEAD 2>/dev/null)
	# GIT_OPTIONAL_LOCKS=0: status must not refresh the index (the work tree may be shared).
	[[ -n $(GIT_OPTIONAL_LOCKS=0 git status --porcelain -uno 2>/dev/null) ]] &&
		commit+=" with uncommitted changes"
	printf '"commit":"%s",' "$commit"
	printf '"gvisor":"%s",' "$(runsc --version 2>/dev/null | head -n 1)"
	printf '"rounds":%d,"heavy_rounds":%d,"mem_rounds":%d,"target_ms":%d}\n' \
		"$ROUNDS" "$HEAVY_ROUNDS" "$MEM_ROUNDS" "$TARGET_MS"
} >"$tmp/machine.json"
readme=()
[[ -n ${BENCH_README:-} ]] && readme=(--readme "$BENCH_README")
python3 benchmarks/report.py --out "$OUT" --machine "$tmp/machine.json" \
	--runners "$tmp/runners.tsv" --results "$tmp/results.jsonl" --failures "$tmp/failures.tsv" \
	--skipped "$tmp/skipped.tsv" "${readme[@]}"
report_status=$?

echo
cat "$OUT/latest.md"
echo
echo "bench: wrote $OUT/latest.json, latest.md, latest.png, latest.svg, fork_cow.png, fork_cow.svg"
if grep -q '^native' "$tmp/failures.tsv"; then
	echo "bench: native runs failed" >&2
	exit 1
fi
exit "$report_status"
