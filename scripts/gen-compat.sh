#!/bin/bash
# gen-compat.sh [BIN]: regenerate docs/compatibility.md from BIN's dispatch table (`BIN syscalls
# --format markdown`, BIN defaults to build/runsc-c) and update the README's count line
# "runsc-c supports N of the M x86-64 system calls, and K more in part (...)". `make` runs it
# whenever the binary changes; tests/compat/run.sh checks that both agree with the binary.
set -euo pipefail
cd "$(dirname "$0")/.."

bin=${1:-build/runsc-c}
doc=docs/compatibility.md
tmp=$(mktemp "$doc.XXXXXX")
trap 'rm -f "$tmp"' EXIT

"$bin" syscalls --format markdown >"$tmp"
if cmp -s "$tmp" "$doc"; then
	touch "$doc" # up to date: only tell make so
else
	chmod 644 "$tmp"
	mv "$tmp" "$doc"
	echo "gen-compat: $doc regenerated"
fi

# "2 supported, 2 partial, 377 unsupported of 381"
summary=$("$bin" syscalls | tail -n 1)
if [[ ! $summary =~ ^([0-9]+)\ supported,\ ([0-9]+)\ partial,\ ([0-9]+)\ unsupported\ of\ ([0-9]+)$ ]]; then
	echo "gen-compat: unexpected summary from $bin syscalls: $summary" >&2
	exit 1
fi
want="runsc-c supports ${BASH_REMATCH[1]} of the ${BASH_REMATCH[4]} x86-64 system calls, and ${BASH_REMATCH[2]} more in part ([docs/compatibility.md](docs/compatibility.md))."
pattern='^runsc-c supports [0-9]+ of the [0-9]+ x86-64 system calls'
if ! grep -qE "$pattern" README.md; then
	echo "gen-compat: README.md has no line \"runsc-c supports N of the M x86-64 system calls...\"; add: $want" >&2
	exit 0
fi
if [[ $(grep -E "$pattern" README.md) != "$want" ]]; then
	awk -v want="$want" -v pat="$pattern" '$0 ~ pat { print want; next } { print }' README.md >README.md.tmp
	cat README.md.tmp >README.md # keep README.md's inode and mode
	rm -f README.md.tmp
	echo "gen-compat: README.md: $want"
fi
