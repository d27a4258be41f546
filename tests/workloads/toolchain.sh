# shellcheck shell=bash
# toolchain.sh: perl, gcc, git, sqlite3 and make run unchanged, natively and in the sandbox, with the
# same stdout and status (issue 5). Sourced by tests/workloads/run.sh (it uses lib.sh's rt_pair and
# run.sh's WL_ENV). Each case is a script in tests/workloads/toolchain/ that makes its own temp dir
# under /tmp: on the host natively, in the root overlay's tmpfs in the sandbox. Each takes well
# under 3 s natively.
# The tools come from Debian (scripts/deps.sh installs them); a missing one is a skip, not a pass.

TC_DIR=tests/workloads/toolchain

# tc NAME TOOL INTERPRETER SCRIPT: runs SCRIPT with INTERPRETER when TOOL is installed.
tc() {
	local name=$1 tool=$2 interp=$3 script=$4
	rt_selected "$name" || return 0
	if ! command -v "$tool" >/dev/null; then
		rt_result "$name" skip "$tool is not installed (scripts/deps.sh installs it)"
		return 0
	fi
	rt_pair "$name" 0 /dev/null "${WL_ENV[@]}" "$interp" "$TC_DIR/$script"
}

tc toolchain-perl    perl    /usr/bin/perl perl_mix.pl
tc toolchain-gcc     gcc     /bin/bash     gcc_build.sh
tc toolchain-git     git     /bin/bash     git_seq.sh
tc toolchain-sqlite3 sqlite3 /bin/bash     sqlite_100k.sh
tc toolchain-make    make    /bin/bash     make_j2.sh
