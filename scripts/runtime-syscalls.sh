#!/bin/bash
# runtime-syscalls.sh: rewrite docs/runtime-syscalls.txt, the list of every system call python3,
# node, perl, gcc (and its children), git, sqlite3 and make made in the sandbox, with the results
# the calls got. Runs each under `runsc-c do --strace --debug-log` (the workload scripts of
# tests/workloads and benchmarks/workloads), attributes every traced call to the program the
# calling process had exec'd, and keeps the calls of the runtimes' own programs (not of the shell
# or coreutils around them). scripts/gen-compat.sh reads the list and puts the calls that runsc-c
# does not fully support into docs/compatibility.md ("What the runtimes call").
#   scripts/runtime-syscalls.sh [RUNSC]     (RUNSC defaults to build/runsc-c; build first;
#   RUNTIME_SYSCALLS_KEEP=1 keeps the traces)
# The fourth column of the list, a hand-written note on what a result means for the runtimes, is
# kept for the syscalls that are still called. Rerun after a runtime or the Sentry changes.
set -euo pipefail
cd "$(dirname "$0")/.."

runsc=${1:-build/runsc-c}
out=docs/runtime-syscalls.txt
tmp=$(mktemp -d /tmp/runsc-c-runtime-syscalls.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
[[ -n ${RUNTIME_SYSCALLS_KEEP:-} ]] && trap 'echo "runtime-syscalls: traces kept in $tmp" >&2' EXIT

PYTHON_MIX=tests/workloads/runtimes/python_mix.py
# What python3 runs while PYTHON_MIX is missing: threads, a subprocess, files, sockets, asyncio.
PYTHON_FALLBACK='
import asyncio, hashlib, json, os, socket, sqlite3, subprocess, tempfile, threading
d = tempfile.mkdtemp()
with open(os.path.join(d, "f.json"), "w") as f: json.dump({"a": list(range(100))}, f)
print(subprocess.run(["echo", "child"], capture_output=True, text=True).stdout.strip())
t = [threading.Thread(target=hashlib.sha256, args=(b"x" * 100000,)) for _ in range(4)]
[x.start() for x in t]; [x.join() for x in t]
db = sqlite3.connect(os.path.join(d, "t.db")); db.execute("create table t(x)"); db.commit()
a, b = socket.socketpair(); a.send(b"hi"); print(b.recv(2))
async def main(): await asyncio.sleep(0.01)
asyncio.run(main())
'
NODE_FS='
const fs = require("fs"), os = require("os"), path = require("path"), cp = require("child_process");
const d = fs.mkdtempSync(path.join(os.tmpdir(), "rt-node-"));
fs.writeFileSync(path.join(d, "f"), "x".repeat(100000));
console.log(fs.readdirSync(d), cp.execFileSync("echo", ["child"]).toString().trim());
const { Worker } = require("worker_threads");
new Worker("require(\"worker_threads\").parentPort.postMessage(42)", { eval: true })
	.on("message", (m) => { console.log("worker", m); fs.rmSync(d, { recursive: true }); });
'

# trace NAME CMD...: CMD in the sandbox under --strace; the trace goes to $tmp/NAME.log.
trace() {
	local name=$1
	shift
	if ! command -v "$1" >/dev/null; then
		echo "runtime-syscalls: $1 is not installed; $name is left out" >&2
		return 0
	fi
	echo "runtime-syscalls: $name" >&2
	# The status is not ours to judge here (the tests do); a failing run still shows its calls.
	"$runsc" "do" --strace --debug-log "$tmp/$name.log" -- "$@" >/dev/null 2>&1 </dev/null || true
	printf '%s\t%s\n' "$name" "$(basename "$1")" >>"$tmp/runs"
}

if [[ -f $PYTHON_MIX ]]; then
	trace python3 python3 "$PYTHON_MIX"
else
	trace python3 python3 -c "$PYTHON_FALLBACK"
fi
trace node-http node benchmarks/workloads/http_loop.js
trace node-fs node -e "$NODE_FS"
trace perl perl tests/workloads/toolchain/perl_mix.pl
trace gcc bash tests/workloads/toolchain/gcc_build.sh
trace git bash tests/workloads/toolchain/git_seq.sh
trace sqlite3 bash tests/workloads/toolchain/sqlite_100k.sh
trace make bash tests/workloads/toolchain/make_j2.sh

# One line per syscall: NAME, the runtimes (sorted), the results (ok and errno names, sorted),
# and the note of the old list.
perl -e '
	use strict;
	use warnings;
	my ($tmp, $old) = @ARGV;
	# The runtime a program belongs to; programs not listed (sh, sed, rm, ...) are left out.
	sub runtime_of {
		my ($p) = @_;
		return "python3" if $p =~ /^python3/;
		return "gcc" if $p =~ /^(gcc|cc|cc1|cpp|as|collect2|ld|ld\.bfd|lto-wrapper|x86_64-linux-gnu-.*)$/;
		return "git" if $p =~ /^git(-|$)/;
		return $p if $p =~ /^(node|perl|sqlite3|make)$/;
		return undef;
	}
	my (%who, %res);
	open(my $runs, "<", "$tmp/runs") or die "no runs\n";
	while (my $run = <$runs>) {
		chomp $run;
		my ($name, $first) = split /\t/, $run;
		open(my $log, "<", "$tmp/$name.log") or next;
		my @lines = <$log>;
		# The parent of each process or thread, from the results of clone, fork and vfork.
		my %parent;
		for (@lines) {
			$parent{$2} = $1 if /^\[pid +(\d+)\] (?:clone3?|v?fork)\(.*\) += (\d+)$/;
		}
		my %prog = (1 => $first);
		my $prog_of;
		$prog_of = sub {
			my ($pid, $depth) = @_;
			return $prog{$pid} if defined $prog{$pid};
			return "?" if !defined $parent{$pid} || $depth > 64;
			return $prog_of->($parent{$pid}, $depth + 1);
		};
		for (@lines) {
			next unless /^\[pid +(\d+)\] ([a-z0-9_]+)\(.*\) += (.*)$/;
			my ($pid, $sys, $ret) = ($1, $2, $3);
			# A successful execve is the old program'\''s call; what follows is the new one'\''s.
			my $rt = runtime_of($prog_of->($pid, 0));
			if ($sys eq "execve" && $ret =~ /^0\b/ && /^\[pid +\d+\] execve\("(?:[^"]*\/)?([^"\/]+)"/) {
				$prog{$pid} = $1;
			}
			next unless defined $rt;
			$who{$sys}{$rt} = 1;
			$res{$sys}{$ret =~ /^-1 (E[A-Z0-9]+)/ ? $1 : "ok"} = 1;
		}
	}
	my %note;
	if (open(my $o, "<", $old)) {
		while (<$o>) {
			next if /^#/;
			chomp;
			my @f = split /\t/;
			$note{$f[0]} = $f[3] if @f >= 4 && $f[3] ne "";
		}
	}
	for my $sys (sort keys %who) {
		my $n = $note{$sys} // "";
		print join("\t", $sys, join(" ", sort keys %{$who{$sys}}),
			join(" ", sort { ($a eq "ok" ? "" : $a) cmp ($b eq "ok" ? "" : $b) } keys %{$res{$sys}}),
			$n), "\n";
	}
' "$tmp" "$out" >"$tmp/list"

{
	cat <<'EOF'
# runtime-syscalls.txt: every system call python3, node, perl, gcc (and its children), git, sqlite3
# and make made in the sandbox, as `runsc-c do --strace` saw it running their workload scripts.
# Written by scripts/runtime-syscalls.sh (rerun it when a runtime or the Sentry changes); read by
# scripts/gen-compat.sh, which puts the calls runsc-c does not fully support into
# docs/compatibility.md. Tab-separated: syscall, the runtimes that called it, the results the
# calls got (ok, or errno names), and a hand-written note on what that means for the runtimes
# (the script keeps it).
EOF
	cat "$tmp/list"
} >"$out"
echo "runtime-syscalls: $out: $(wc -l <"$tmp/list") syscalls" >&2
