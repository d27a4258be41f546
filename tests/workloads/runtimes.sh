# runtimes.sh: Debian's Python and node, natively and in the sandbox, one test per section of
# tests/workloads/runtimes/python_mix.py and node_http.js (threads, multiprocessing with fork and
# spawn, subprocess, sockets, sqlite3, signals, ...; node's http with keep-alive, fs,
# child_process, worker_threads, timers): same stdout, same status.
# Sourced by tests/workloads/run.sh (after rt_init, with WL_ENV set); not run on its own.
# shellcheck shell=bash

# runtime_sections TAG INTERP SCRIPT SECTION...: one pair per section, "TAG-SECTION".
runtime_sections() {
	local tag=$1 interp=$2 script=$3 s
	shift 3
	if [[ ! -x $interp ]]; then
		rt_result "$tag" skip "$interp is missing (make deps)"
		return
	fi
	for s in "$@"; do
		rt_pair "$tag-$s" 0 /dev/null "${WL_ENV[@]}" "$interp" "$script" "$s"
	done
}

runtime_sections python /usr/bin/python3 tests/workloads/runtimes/python_mix.py \
	threading mp_fork mp_spawn subprocess socket_tcp unix_sockets sqlite tempfile walk signals misc
runtime_sections node /usr/bin/node tests/workloads/runtimes/node_http.js \
	http net fs child_process worker_threads timers misc
