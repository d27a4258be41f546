#!/bin/bash
# run.sh: runs every tests/progs program natively and in the sandbox; stdout and status must match.
#   tests/progs/run.sh [-v] [FILTER...]     (build them first: make progs)
# Argument sets come from tests/progs/cases.txt; see tests/progs/lib.sh for RUNSC and friends.
# shellcheck source=tests/progs/lib.sh
source "$(dirname "$0")/lib.sh"
rt_init progs "$@"

declare -A listed=()
cases=()
while IFS= read -r line || [[ -n $line ]]; do
	line=${line%%#*}
	[[ $line =~ [^[:space:]] ]] || continue
	cases+=("$line")
	read -r _ _ prog _ <<<"$line"
	listed[$prog]=1
done <tests/progs/cases.txt
for src in tests/progs/*.c; do
	prog=$(basename "$src" .c)
	[[ -n ${listed[$prog]-} ]] || cases+=("$prog 0 $prog")
done

for line in "${cases[@]}"; do
	read -r name status prog args <<<"$line"
	rt_selected "$name" || continue
	RT_MATCHED=$((RT_MATCHED - 1)) # rt_pair counts it again
	bin=build/tests/progs/$prog
	if [[ ! -x $bin ]]; then
		rt_selected "$name"
		rt_result "$name" fail "$bin is not built (run: make progs)"
		continue
	fi
	uniq="$$-$RANDOM"
	read -r -a argv <<<"${args//@UNIQ@/$uniq}"
	rt_pair "$name" "$status" /dev/null "$bin" "${argv[@]}"
done
rt_finish
