#!/bin/bash
# make unit: run each Criterion test binary given as an argument; print each one's summary and
# a total line "unit: N passed, N failed". Exits non-zero if any test failed.
set -uo pipefail

passed=0
failed=0
for bin in "$@"; do
	name=$(basename "$bin")
	out=$("$bin" --ascii 2>&1)
	rc=$?
	# "[====] Synthesis: Tested: 16 | Passing: 16 | Failing: 0 | Crashing: 0"
	synth=$(grep -a 'Synthesis:' <<<"$out" | tail -1)
	p=$(sed -n 's/.*Passing: \([0-9]*\).*/\1/p' <<<"$synth")
	f=$(sed -n 's/.*Failing: \([0-9]*\).*/\1/p' <<<"$synth")
	if [[ -z $p || -z $f ]]; then
		p=0
		f=1 # no synthesis: the binary itself died
	elif [[ $rc -ne 0 && $f -eq 0 ]]; then
		f=1
	fi
	if [[ $f -ne 0 ]]; then
		echo "$out" | grep -av '^\[----\] Criterion\|^\[====\] Running'
		echo "  $name: $p passed, $f failed  <-- FAILED"
	else
		echo "  $name: $p passed, $f failed"
	fi
	passed=$((passed + p))
	failed=$((failed + f))
done
echo "unit: $passed passed, $failed failed"
[[ $failed -eq 0 ]]
