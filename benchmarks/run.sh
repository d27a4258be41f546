#!/bin/bash
# run.sh: run each benchmark natively and under `runsc-c do` on every platform, interleaved
# (round 1: native, ptrace, ...; round 2: the same; ...), and write benchmarks/results/latest.json
# (every measurement of every run) and benchmarks/results/latest.md (medians and ratios to native).
#   benchmarks/run.sh [BENCH_BIN...]        (default build/benchmarks/*; `make bench` builds them)
# A benchmark is a static program printing one JSON object per line per measurement, with at least
# "bench" and "ns_per_op". Environment:
#   RUNSC            the runsc-c binary (default build/runsc-c)
#   BENCH_PLATFORMS  platforms to run (default: the list in `runsc-c do --help`)
#   BENCH_ROUNDS     rounds (default 3)
#   BENCH_TIMEOUT    seconds per run before it counts as failed (default 120)
#   BENCH_OUT        output directory (default benchmarks/results)
# A run that fails (non-zero status, timeout) keeps the lines it printed; the table says "failed"
# where a measurement is missing. Exits 0 when the native runs worked, whatever the sandbox did.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1

RUNSC=${RUNSC:-build/runsc-c}
ROUNDS=${BENCH_ROUNDS:-3}
TIMEOUT=${BENCH_TIMEOUT:-120}
OUT=${BENCH_OUT:-benchmarks/results}

bins=("$@")
if ((${#bins[@]} == 0)); then
	for f in build/benchmarks/*; do
		[[ -x $f && -f $f ]] && bins+=("$f")
	done
fi
if ((${#bins[@]} == 0)); then
	echo "bench: no benchmark binaries (run: make bench)" >&2
	exit 1
fi

# The platforms `do --help` lists: "  --platform NAME    how application code is run: ptrace (default ptrace)"
platforms_from_help() {
	local line list
	line=$("$RUNSC" "do" --help 2>/dev/null | grep -m1 -- '--platform')
	list=${line#*: }
	list=${list%%(*}
	tr ',|/' '   ' <<<"$list" | tr -s ' ' '\n' | grep -E '^[a-z0-9_-]+$'
}
if [[ -n ${BENCH_PLATFORMS:-} ]]; then
	read -ra platforms <<<"$BENCH_PLATFORMS"
elif [[ -x $RUNSC ]]; then
	mapfile -t platforms < <(platforms_from_help)
	if ((${#platforms[@]} == 0)); then
		echo "bench: could not read the platforms from '$RUNSC do --help'; using ptrace" >&2
		platforms=(ptrace)
	fi
else
	echo "bench: $RUNSC is not built: the sandbox runs will fail" >&2
	platforms=(ptrace)
fi
envs=(native "${platforms[@]}")

tmp=$(mktemp -d /tmp/runsc-c-bench.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
: >"$tmp/results.jsonl"
: >"$tmp/failures.tsv"

# json_str S: S as a JSON string (control characters dropped).
json_str() {
	local s
	s=$(tr -d '\000-\037' <<<"$1")
	s=${s//\\/\\\\}
	s=${s//\"/\\\"}
	printf '"%s"' "$s"
}

# run_one ENV ROUND BIN: one run; appends its measurements (tagged with env and round) to
# results.jsonl, and a line to failures.tsv when it failed.
run_one() {
	local env=$1 round=$2 bin=$3 name status reason
	local abs
	name=$(basename "$bin")
	abs=$(realpath "$bin")
	local cmd=("$abs")
	[[ $env != native ]] && cmd=("$RUNSC" "do" --platform "$env" -- "$abs")
	(
		ulimit -c 0
		exec timeout -k 5 "$TIMEOUT" "${cmd[@]}"
	) </dev/null >"$tmp/out" 2>"$tmp/err"
	status=$?
	grep -a '^{.*}$' "$tmp/out" |
		sed "s/^{/{\"env\":\"$env\",\"round\":$round,/" >>"$tmp/results.jsonl"
	if ((status != 0)); then
		if ((status == 124 || status == 137)); then
			reason="timed out after ${TIMEOUT}s"
		else
			reason="exit status $status: $(grep -a . "$tmp/err" | tail -n 1)"
		fi
		printf '%s\t%s\t%s\t%s\n' "$env" "$name" "$round" "$reason" >>"$tmp/failures.tsv"
		printf '  %-8s %-12s round %d: failed (%s)\n' "$env" "$name" "$round" "$reason"
	else
		printf '  %-8s %-12s round %d: %d measurements\n' "$env" "$name" "$round" \
			"$(grep -ac '^{' "$tmp/out")"
	fi
}

echo "bench: ${#bins[@]} benchmark(s), environments: ${envs[*]}, $ROUNDS round(s)"
for ((round = 1; round <= ROUNDS; round++)); do
	for bin in "${bins[@]}"; do
		for env in "${envs[@]}"; do
			run_one "$env" "$round" "$bin"
		done
	done
done

mkdir -p "$OUT"
date=$(date -u +%Y-%m-%dT%H:%M:%SZ)
kernel=$(uname -r)
cpu=$(grep -m1 '^model name' /proc/cpuinfo | sed 's/^[^:]*: *//')
ncpu=$(nproc)
version=$("$RUNSC" --version 2>/dev/null | head -n 1)

# latest.json: the runs' context, every measurement, every failure.
{
	printf '{\n  "date": %s,\n' "$(json_str "$date")"
	printf '  "host": {"kernel": %s, "cpu": %s, "cpus": %d},\n' "$(json_str "$kernel")" \
		"$(json_str "$cpu")" "$ncpu"
	printf '  "runsc": %s,\n  "rounds": %d,\n' "$(json_str "${version:-unknown}")" "$ROUNDS"
	printf '  "envs": [%s],\n' "$(for e in "${envs[@]}"; do json_str "$e"; echo; done | paste -sd, -)"
	printf '  "results": [\n'
	sed 's/^/    /; $!s/$/,/' "$tmp/results.jsonl"
	printf '  ],\n  "failures": [\n'
	while IFS=$'\t' read -r env name round reason; do
		printf '    {"env": %s, "bench": %s, "round": %d, "reason": %s}\n' "$(json_str "$env")" \
			"$(json_str "$name")" "$round" "$(json_str "$reason")"
	done <"$tmp/failures.tsv" | sed '$!s/$/,/'
	printf '  ]\n}\n'
} >"$OUT/latest.json"

# latest.md: per measurement, the median over the rounds of each environment, and its ratio to
# native. A measurement is named by its fields other than env, round, iters, ns_per_op and the
# derived touched_pages.
awk -v envs="${envs[*]}" -v date="$date" -v kernel="$kernel" -v cpu="$cpu" -v ncpu="$ncpu" \
	-v rounds="$ROUNDS" -v failures="$tmp/failures.tsv" '
function field(line, k,    re) {
	re = "\"" k "\":(\"[^\"]*\"|[-0-9.]+)"
	if (!match(line, re))
		return ""
	v = substr(line, RSTART + length(k) + 3, RLENGTH - length(k) - 3)
	gsub(/"/, "", v)
	return v
}
function label(line,    s, rest, kv, n, i, parts, k) {
	s = "`" field(line, "bench") "`"
	rest = line
	sub(/^\{/, "", rest)
	sub(/\}$/, "", rest)
	n = split(rest, parts, ",")
	kv = ""
	for (i = 1; i <= n; i++) {
		k = parts[i]
		sub(/:.*/, "", k)
		gsub(/"/, "", k)
		if (k == "env" || k == "round" || k == "bench" || k == "iters" || k == "ns_per_op" || k == "touched_pages")
			continue
		v = parts[i]
		sub(/^[^:]*:/, "", v)
		gsub(/"/, "", v)
		kv = kv (kv == "" ? "" : ", ") k "=" v
	}
	return kv == "" ? s : s " (" kv ")"
}
function median(key, env,    n, a, i, j, t, list) {
	list = vals[key SUBSEP env]
	if (list == "")
		return ""
	n = split(list, a, " ")
	for (i = 2; i <= n; i++) {
		t = a[i] + 0
		for (j = i - 1; j >= 1 && a[j] + 0 > t; j--)
			a[j + 1] = a[j]
		a[j + 1] = t
	}
	return (n % 2) ? a[(n + 1) / 2] + 0 : (a[n / 2] + a[n / 2 + 1]) / 2
}
function human(ns) {
	if (ns < 1e3) return sprintf("%d ns", ns)
	if (ns < 1e6) return sprintf("%.1f µs", ns / 1e3)
	if (ns < 1e9) return sprintf("%.1f ms", ns / 1e6)
	return sprintf("%.2f s", ns / 1e9)
}
{
	key = label($0)
	env = field($0, "env")
	if (!(key in seen)) {
		seen[key] = 1
		order[++nkeys] = key
	}
	vals[key SUBSEP env] = vals[key SUBSEP env] " " field($0, "ns_per_op")
}
END {
	ne = split(envs, E, " ")
	print "# Benchmark results"
	print ""
	printf "Measured by `make bench` (benchmarks/run.sh) on %s:\n", date
	printf "Linux %s, %s, %d CPUs.\n", kernel, cpu, ncpu
	printf "Each cell is the median over %d round(s) of the time per operation; native and\n", rounds
	print "sandboxed runs are interleaved. Every measurement of every run is in latest.json;"
	print "what each benchmark does is in the comment atop its source in benchmarks/."
	print ""
	hdr = "| Benchmark | native |"
	sep = "|---|---:|"
	for (e = 2; e <= ne; e++) {
		hdr = hdr " " E[e] " | " E[e] " ÷ native |"
		sep = sep "---:|---:|"
	}
	print hdr
	print sep
	for (k = 1; k <= nkeys; k++) {
		key = order[k]
		nat = median(key, "native")
		row = "| " key " | " (nat == "" ? "failed" : human(nat)) " |"
		for (e = 2; e <= ne; e++) {
			m = median(key, E[e])
			if (m == "")
				row = row " failed | failed |"
			else if (nat == "" || nat == 0)
				row = row " " human(m) " | - |"
			else
				row = row " " human(m) " | " sprintf("%.1f×", m / nat) " |"
		}
		print row
	}
	if (nkeys == 0)
		print "| (no measurement) | failed |"
	nf = 0
	while ((getline line < failures) > 0) {
		split(line, f, "\t")
		id = f[1] SUBSEP f[2] SUBSEP f[4]
		if (id in told)
			continue
		told[id] = 1
		if (nf++ == 0) {
			print ""
			print "Failed runs:"
			print ""
		}
		printf "- %s, `%s` (round %s): %s\n", f[1], f[2], f[3], f[4]
	}
}' "$tmp/results.jsonl" >"$OUT/latest.md"

echo
cat "$OUT/latest.md"
echo
echo "bench: wrote $OUT/latest.json and $OUT/latest.md"
if grep -q '^native' "$tmp/failures.tsv"; then
	echo "bench: native runs failed" >&2
	exit 1
fi
