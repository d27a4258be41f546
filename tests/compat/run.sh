#!/bin/bash
# run.sh: the compatibility table agrees with the code: `runsc-c syscalls` lists every x86-64
# syscall once with a consistent summary, docs/compatibility.md and the README's count are what the
# binary prints, and no handler that only returns ENOSYS passes for supported.
#   tests/compat/run.sh [-v] [FILTER...]     (build first: make)
# shellcheck source=tests/progs/lib.sh
source "$(dirname "$0")/../progs/lib.sh"
rt_init compat "$@"

FIX="run scripts/gen-compat.sh (make does it) and commit the result"

# syscalls_out FORMAT: runs `runsc-c syscalls --format FORMAT` into $RT_TMP/FORMAT.{out,err};
# returns its status.
syscalls_out() {
	rt_exec "$RT_TMP/$1.out" "$RT_TMP/$1.err" /dev/null "${RT_RUNSC_CMD[@]}" syscalls --format "$1"
	return "$RT_STATUS"
}

# ---- the listing: one line per syscall of abi/syscalls.def, a summary that adds up ----
test_listing() {
	local name=listing msgs=()
	rt_selected $name || return 0
	if ! syscalls_out text; then
		rt_result $name fail "'runsc-c syscalls' exited $RT_STATUS" "$(rt_tail "$RT_TMP/text.err" 10)"
		return 0
	fi
	local out="$RT_TMP/text.out"
	# table.c logs a malformed entry (bad number, duplicate, note without a known prefix)
	[[ -s $RT_TMP/text.err ]] && msgs+=("the dispatch table logged errors:" "$(head -n 10 "$RT_TMP/text.err")")
	local want_n got_n
	want_n=$(grep -c '^SYSCALL(' abi/syscalls.def)
	got_n=$(head -n -1 "$out" | awk '{print $2}' | sort -u | wc -l)
	((got_n == want_n)) || msgs+=("$got_n distinct syscalls listed, abi/syscalls.def has $want_n")
	local bad
	bad=$(head -n -1 "$out" | awk '$3 != "supported" && $3 != "partial" && $3 != "unsupported"' | head -n 5)
	[[ -n $bad ]] && msgs+=("lines without a known state:" "$bad")
	bad=$(head -n -1 "$out" | awk '$3 == "partial" && NF < 4' | head -n 5)
	[[ -n $bad ]] && msgs+=("partial without saying what is missing:" "$bad")
	local summary s p u total
	summary=$(tail -n 1 "$out")
	if [[ $summary =~ ^([0-9]+)\ supported,\ ([0-9]+)\ partial,\ ([0-9]+)\ unsupported\ of\ ([0-9]+)$ ]]; then
		s=${BASH_REMATCH[1]} p=${BASH_REMATCH[2]} u=${BASH_REMATCH[3]} total=${BASH_REMATCH[4]}
		((s + p + u == total && total == want_n)) || msgs+=("summary does not add up to $want_n: $summary")
		((s == $(head -n -1 "$out" | awk '$3 == "supported"' | wc -l))) ||
			msgs+=("summary's supported count ($s) is not the number of supported lines")
		((p == $(head -n -1 "$out" | awk '$3 == "partial"' | wc -l))) ||
			msgs+=("summary's partial count ($p) is not the number of partial lines")
		rt_log "      $summary"
	else
		msgs+=("last line is not 'N supported, N partial, N unsupported of N': $summary")
	fi
	if ((${#msgs[@]})); then rt_result $name fail "${msgs[@]}"; else rt_result $name pass; fi
}

# ---- docs/compatibility.md is what the binary prints, then the runtimes' section ----
test_doc() {
	local name=doc
	rt_selected $name || return 0
	if ! syscalls_out markdown; then
		rt_result $name fail "'runsc-c syscalls --format markdown' exited $RT_STATUS"
		return 0
	fi
	# gen-compat.sh --print: that table, then what docs/runtime-syscalls.txt adds
	rt_exec "$RT_TMP/doc.out" "$RT_TMP/doc.err" /dev/null scripts/gen-compat.sh --print "${RT_RUNSC_CMD[0]}"
	if [[ $RT_STATUS != 0 ]]; then
		rt_result $name fail "'scripts/gen-compat.sh --print' exited $RT_STATUS" "$(rt_tail "$RT_TMP/doc.err" 10)"
	elif ! cmp -s <(head -n "$(wc -l <"$RT_TMP/markdown.out")" "$RT_TMP/doc.out") "$RT_TMP/markdown.out"; then
		rt_result $name fail "'scripts/gen-compat.sh --print' does not start with 'runsc-c syscalls --format markdown'"
	elif [[ ! -f docs/compatibility.md ]]; then
		rt_result $name fail "docs/compatibility.md is missing: $FIX"
	elif ! diff -u docs/compatibility.md "$RT_TMP/doc.out" >"$RT_TMP/doc.diff"; then
		rt_result $name fail "docs/compatibility.md differs from 'scripts/gen-compat.sh --print': $FIX" \
			"$(rt_tail "$RT_TMP/doc.diff" 20)"
	else
		rt_result $name pass
	fi
}

# ---- the README states the binary's count ----
test_readme() {
	local name=readme
	rt_selected $name || return 0
	local summary line
	summary=$("${RT_RUNSC_CMD[@]}" syscalls 2>/dev/null | tail -n 1)
	if [[ ! $summary =~ ^([0-9]+)\ supported,\ ([0-9]+)\ partial,\ ([0-9]+)\ unsupported\ of\ ([0-9]+)$ ]]; then
		rt_result $name fail "no summary from 'runsc-c syscalls': $summary"
		return 0
	fi
	local want="runsc-c supports ${BASH_REMATCH[1]} of the ${BASH_REMATCH[4]} x86-64 system calls, and ${BASH_REMATCH[2]} more in part"
	line=$(grep -E '^runsc-c supports [0-9]+ of the [0-9]+ x86-64 system calls' README.md)
	if [[ -z $line ]]; then
		rt_result $name fail "README.md does not state the count: add under Usage a line starting \"$want\""
	elif [[ $line != "$want"* ]]; then
		rt_result $name fail "README.md's count is stale: $FIX" "README:  $line" "binary:  $want ..."
	else
		rt_result $name pass
	fi
}

# ---- a handler that only returns ENOSYS is marked "unsupported:" ----
# Finds `SYSCALL_DEFINE(h) { return -ENOSYS; }` in sentry/syscalls/*.c, the syscalls whose table
# entries name sys_h ({LINUX_SYS_x, sys_h...} or E(h)), and checks the listing calls them unsupported.
test_enosys_stubs() {
	local name=enosys-stubs msgs=() h nr_name state
	rt_selected $name || return 0
	[[ -s $RT_TMP/text.out ]] || syscalls_out text
	local stubs
	stubs=$(perl -0777 -ne 'while (/SYSCALL_DEFINE\((\w+)\)\s*\{\s*return\s+-ENOSYS\s*;\s*\}/g) { print "$1\n" }' \
		sentry/syscalls/*.c)
	for h in $stubs; do
		for nr_name in $(perl -0777 -ne 'while (/\{\s*LINUX_SYS_(\w+)\s*,\s*sys_'"$h"'\b/g) { print "$1\n" }
			while (/\bE\(\s*'"$h"'\s*\)/g) { print "'"$h"'\n" }' sentry/syscalls/*.c | sort -u); do
			state=$(awk -v n="$nr_name" '$2 == n {print $3}' "$RT_TMP/text.out")
			[[ $state == unsupported ]] ||
				msgs+=("$nr_name: sys_$h only returns ENOSYS but is listed as '${state:-nothing}': give its entry a note \"unsupported: ...\"")
		done
	done
	rt_log "      ENOSYS-only handlers: ${stubs//$'\n'/ }"
	if ((${#msgs[@]})); then rt_result $name fail "${msgs[@]}"; else rt_result $name pass; fi
}

# ---- usage errors ----
test_usage() {
	local name=usage
	rt_selected $name || return 0
	rt_exec "$RT_TMP/u.out" "$RT_TMP/u.err" /dev/null "${RT_RUNSC_CMD[@]}" syscalls --format nope
	if [[ $RT_STATUS != 2 ]]; then
		rt_result $name fail "'runsc-c syscalls --format nope' exited $RT_STATUS, want 2"
	else
		rt_result $name pass
	fi
}

test_listing
test_doc
test_readme
test_enosys_stubs
test_usage
rt_finish
