#!/bin/bash
# gen-compat.sh [--print] [BIN]: regenerate docs/compatibility.md from BIN's dispatch table (`BIN
# syscalls --format markdown`, BIN defaults to build/runsc-c) followed by "What the runtimes call"
# (the calls of docs/runtime-syscalls.txt that BIN does not fully support), and update the README's
# count line "runsc-c supports N of the M x86-64 system calls, and K more in part (...)". `make`
# runs it whenever the binary or the list changes; tests/compat/run.sh checks that both agree.
# --print: write the document to stdout and change nothing.
set -euo pipefail
cd "$(dirname "$0")/.."

print=0
if [[ ${1:-} == --print ]]; then
	print=1
	shift
fi
bin=${1:-build/runsc-c}
doc=docs/compatibility.md
runtime_list=docs/runtime-syscalls.txt

# runtime_section: the markdown of "What the runtimes call". Fails on a name BIN does not know.
runtime_section() {
	local total
	total=$(grep -cv '^#' "$runtime_list")
	cat <<EOF

## What the runtimes call

The system calls that python3, node, perl, gcc (and cc1, as, collect2, ld), git, sqlite3 and make
made in the sandbox running their workload scripts (tests/workloads, benchmarks/workloads) that
runsc-c supports only in part or not at all: what runsc-c leaves out of each (its dispatch table's
note) and what the runtimes meet instead. The others of the $total calls they made are supported.
\`scripts/runtime-syscalls.sh\` gathers them with \`runsc-c do --strace\` into
[runtime-syscalls.txt](runtime-syscalls.txt), with the results the calls got and the notes of the
last column.

| Syscall | State | Called by | Results seen | What runsc-c leaves out | What the runtimes meet |
|---|---|---|---|---|---|
EOF
	# The table's states and notes (NR NAME STATE [NOTE...]) on stdin, then the list.
	"$bin" syscalls | head -n -1 | awk -v list="$runtime_list" '
		function cell(s) { gsub(/\|/, "\\|", s); return s }
		FILENAME != list {
			state[$2] = $3
			note = $0
			sub(/^ *[0-9]+ +[^ ]+ +[^ ]+ */, "", note)
			notes[$2] = note
			next
		}
		/^#/ { next }
		{
			split($0, f, "\t")
			if (!(f[1] in state)) {
				printf "gen-compat: %s names %s, which is no x86-64 syscall\n", list, f[1] >"/dev/stderr"
				bad = 1
				next
			}
			if (state[f[1]] == "supported")
				next
			gap = notes[f[1]]
			if (state[f[1]] == "unsupported")
				gap = "the call: ENOSYS" (gap == "" ? "" : " (" gap ")")
			printf "| `%s` | %s | %s | %s | %s | %s |\n", f[1], state[f[1]], f[2], f[3], cell(gap),
				cell(f[4] == "" ? "(no note yet in " list ")" : f[4])
		}
		END { exit bad }' - "$runtime_list"
}

render() {
	"$bin" syscalls --format markdown
	runtime_section
}

if ((print)); then
	render
	exit
fi
tmp=$(mktemp "$doc.XXXXXX")
trap 'rm -f "$tmp"' EXIT
render >"$tmp"
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
