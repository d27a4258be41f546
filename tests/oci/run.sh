#!/bin/bash
# tests/oci: runsc-c as an OCI runtime, driven the way runc's callers drive it. Each test makes a
# bundle whose rootfs is busybox-static and its applet links, uses a --root of its own under
# the scratch directory, and checks what is left behind (processes, state files).
#   tests/oci/run.sh [-v] [FILTER...]    (RUNSC from the environment; OCI_PLATFORM for --platform)
source "$(dirname "$0")/../progs/lib.sh"
rt_init oci "$@"

BUSYBOX=/bin/busybox
ROOT=$RT_TMP/root
RC=("${RT_RUNSC_CMD[@]}" --root "$ROOT")
[[ ${RC[0]} == */* ]] && RC[0]=$(realpath "${RC[0]}") # some tests cd
[[ -n ${OCI_PLATFORM:-} ]] && RC+=(--platform "$OCI_PLATFORM")

# However the run ends (a failed check, a timeout's TERM, ^C), no container outlives it:
# delete --force what is left under our --root, then remove the scratch directory.
oci_cleanup() {
	local d
	for d in "$ROOT"/*/; do
		[[ -d $d ]] && "${RC[@]}" delete --force "$(basename "$d")" >/dev/null 2>&1
	done
	rm -rf "$RT_TMP"
}
trap oci_cleanup EXIT
trap 'exit 130' INT TERM

if [[ ! -x $BUSYBOX ]] || ! file -L "$BUSYBOX" 2>/dev/null | grep -q 'statically linked'; then
	echo "oci: $BUSYBOX is not busybox-static (make deps installs it)" >&2
	rt_result busybox fail "$BUSYBOX missing or not static"
	rt_finish
fi

# The rootfs every bundle links to: /bin/busybox and a link per applet.
ROOTFS=$RT_TMP/rootfs
mkdir -p "$ROOTFS/bin" "$ROOTFS/tmp" "$ROOTFS/etc" "$ROOTFS/root"
cp "$BUSYBOX" "$ROOTFS/bin/busybox"
for a in $("$BUSYBOX" --list); do
	[[ $a == busybox ]] || ln -sf busybox "$ROOTFS/bin/$a"
done

# json_str S: S as a JSON string.
json_str() {
	local s=${1//\\/\\\\}
	s=${s//\"/\\\"}
	printf '"%s"' "$s"
}

# bundle NAME CMD [EXTRA_TOP_LEVEL_JSON [ROOT_JSON [PROCESS_EXTRA_JSON]]]: a bundle dir running
# sh -c CMD; prints its path. EXTRA is spliced into the top level (e.g. "mounts": [...]).
bundle() {
	local dir=$RT_TMP/bundles/$1 cmd=$2 extra=${3:-} root=${4:-'{"path": "rootfs"}'}
	local pextra=${5:-}
	mkdir -p "$dir"
	ln -sfn "$ROOTFS" "$dir/rootfs"
	cat >"$dir/config.json" <<EOF
{
  "ociVersion": "1.0.2",
  "process": {
    "terminal": false,
    "user": {"uid": 0, "gid": 0},
    "args": ["sh", "-c", $(json_str "$cmd")],
    "env": ["PATH=/bin", "HOME=/root"],
    "cwd": "/"${pextra:+, $pextra}
  },
  "root": $root,
  "hostname": "$1",
  "mounts": [
    {"destination": "/proc", "type": "proc", "source": "proc"},
    {"destination": "/dev", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "mode=755"]},
    {"destination": "/dev/pts", "type": "devpts", "source": "devpts"},
    {"destination": "/dev/shm", "type": "tmpfs", "source": "shm"},
    {"destination": "/sys", "type": "sysfs", "source": "sysfs", "options": ["ro"]}
  ],
  "linux": {
    "namespaces": [{"type": "pid"}, {"type": "network"}, {"type": "ipc"}, {"type": "uts"},
                   {"type": "mount"}]
  }${extra:+, $extra}
}
EOF
	echo "$dir"
}

# status ID: the "status" of `state ID` (empty if state fails).
status() {
	"${RC[@]}" state "$1" 2>/dev/null | sed -nE 's/^ *"status": "([a-z]+)".*/\1/p'
}

# wait_status ID STATUS: wait up to 10 s for it. 0 if reached.
wait_status() {
	local i
	for ((i = 0; i < 200; i++)); do
		[[ $(status "$1") == "$2" ]] && return 0
		sleep 0.05
	done
	return 1
}

# sandbox_pids ID: the supervisor's, the Sentry's and the gofer's host pids.
sandbox_pids() {
	local d=$ROOT/$1
	grep -oE '"pid": ?[0-9]+' "$d/state.json" | grep -oE '[0-9]+$'
	grep -oE '"(sentry|gofer)": ?[0-9]+' "$d/pids" | grep -oE '[0-9]+$'
}

# all_gone PID...: true once none of them is a live process (zombies count as gone); 5 s.
all_gone() {
	local i p alive
	for ((i = 0; i < 100; i++)); do
		alive=0
		for p in "$@"; do
			[[ -r /proc/$p/stat ]] && [[ $(cut -d' ' -f3 /proc/$p/stat 2>/dev/null) != Z ]] &&
				alive=1
		done
		((alive)) || return 0
		sleep 0.05
	done
	return 1
}

# check NAME COND_CMD... : pass if the command succeeds, else fail with the log.
LOG=$RT_TMP/log
check() {
	local name=$1
	shift
	if "$@"; then
		rt_result "$name" pass
	else
		rt_result "$name" fail "$(tail -20 "$LOG" 2>/dev/null)"
	fi
}

# ---- the lifecycle: create, state, start, state, kill, state, delete ----
t_lifecycle() {
	local b out=$RT_TMP/life.out
	b=$(bundle life 'trap "echo got TERM; exit 3" TERM; echo started; while :; do sleep 0.05; done')
	: >"$LOG"
	"${RC[@]}" create --bundle "$b" --pid-file "$RT_TMP/life.pid" life >"$out" 2>>"$LOG" || return 1
	[[ $(status life) == created ]] || { echo "not created: $(status life)" >>"$LOG"; return 1; }
	local pid
	pid=$(cat "$RT_TMP/life.pid")
	"${RC[@]}" state life | grep -q "\"pid\": $pid," || { echo "pid-file/state differ" >>"$LOG"; return 1; }
	kill -0 "$pid" || return 1
	sleep 0.2
	[[ ! -s $out ]] || { echo "init ran before start: $(cat "$out")" >>"$LOG"; return 1; }
	local pids
	pids=$(sandbox_pids life)
	"${RC[@]}" start life 2>>"$LOG" || return 1
	[[ $(status life) == running ]] || { echo "not running" >>"$LOG"; return 1; }
	for ((i = 0; i < 100; i++)); do grep -q started "$out" && break; sleep 0.05; done
	"${RC[@]}" start life 2>>"$LOG" && { echo "second start succeeded" >>"$LOG"; return 1; }
	"${RC[@]}" kill life TERM 2>>"$LOG" || return 1
	wait_status life stopped || { echo "not stopped after TERM" >>"$LOG"; return 1; }
	grep -q "got TERM" "$out" || { echo "no TERM seen: $(cat "$out")" >>"$LOG"; return 1; }
	[[ $(cat "$ROOT/life/exit") == 3 ]] || { echo "exit status $(cat "$ROOT/life/exit")" >>"$LOG"; return 1; }
	"${RC[@]}" kill life TERM 2>>"$LOG" && { echo "kill of a stopped container succeeded" >>"$LOG"; return 1; }
	"${RC[@]}" delete life 2>>"$LOG" || return 1
	[[ ! -e $ROOT/life ]] || { echo "state dir left" >>"$LOG"; return 1; }
	# shellcheck disable=SC2086
	all_gone $pids || { echo "processes left: $pids" >>"$LOG"; return 1; }
	"${RC[@]}" state life 2>>"$LOG" && return 1
	return 0
}
rt_selected lifecycle && check lifecycle t_lifecycle

# ---- run: stdout, the exit code, and the container deleted afterwards ----
t_run_exit() {
	local b out
	b=$(bundle runexit 'echo hello from $(hostname); exit 7')
	: >"$LOG"
	out=$("${RC[@]}" run --bundle "$b" runexit 2>>"$LOG")
	local rc=$?
	[[ $rc == 7 ]] || { echo "exit $rc" >>"$LOG"; return 1; }
	[[ $out == "hello from runexit" ]] || { echo "output: $out" >>"$LOG"; return 1; }
	[[ ! -e $ROOT/runexit ]] || { echo "state dir left" >>"$LOG"; return 1; }
}
rt_selected run-exit && check run-exit t_run_exit

# killed by a signal: 128 + N, as a shell says
t_run_signal() {
	local b
	b=$(bundle runsig 'kill -KILL $$')
	: >"$LOG"
	"${RC[@]}" run --bundle "$b" runsig 2>>"$LOG"
	local rc=$?
	[[ $rc == 137 ]] || { echo "exit $rc" >>"$LOG"; return 1; }
}
rt_selected run-signal && check run-signal t_run_signal

# a program that is not there: create fails and leaves nothing
t_not_found() {
	local b
	b=$(bundle notfound 'true')
	sed -i 's/"args": \[[^]]*\]/"args": ["no-such-program"]/' "$b/config.json"
	: >"$LOG"
	"${RC[@]}" create --bundle "$b" notfound 2>>"$LOG" && return 1
	grep -q "no-such-program" "$LOG" || return 1
	[[ ! -e $ROOT/notfound ]] || return 1
	# podman's clean-up after a failed create: delete --force of what is not there succeeds
	# and says nothing (as runc), without --force it fails
	[[ -z $("${RC[@]}" delete --force notfound 2>&1) ]] || return 1
	"${RC[@]}" delete notfound 2>>"$LOG" && return 1
	grep -q "container notfound does not exist" "$LOG"
}
rt_selected not-found && check not-found t_not_found

# args[0] a bare name, found along the spec's PATH
t_path_lookup() {
	local b out
	b=$(bundle pathlookup 'true')
	sed -i 's/"args": \[[^]]*\]/"args": ["echo", "looked up"]/' "$b/config.json"
	: >"$LOG"
	out=$("${RC[@]}" run --bundle "$b" pathlookup 2>>"$LOG") || return 1
	[[ $out == "looked up" ]]
}
rt_selected path-lookup && check path-lookup t_path_lookup

# ---- process.user, capabilities, rlimits, noNewPrivileges: init's emulated credentials ----
t_process() {
	local b out
	b=$(bundle proc 'id; umask; ulimit -n; ulimit -Hn; grep -E "^(CapEff|CapBnd|NoNewPrivs)" /proc/1/status; true' '' '' \
		'"capabilities": {"bounding": ["CAP_KILL", "CAP_CHOWN"], "effective": ["CAP_KILL"], "permitted": ["CAP_KILL"]},
    "rlimits": [{"type": "RLIMIT_NOFILE", "soft": 100, "hard": 200}], "noNewPrivileges": true')
	sed -i 's/"user": {"uid": 0, "gid": 0}/"user": {"uid": 1000, "gid": 1000, "additionalGids": [20, 10], "umask": 63}/' "$b/config.json"
	: >"$LOG"
	out=$("${RC[@]}" run --bundle "$b" proc 2>>"$LOG") || return 1
	local want
	want=$(printf '%s\n' "uid=1000 gid=1000 groups=10,20" 0077 100 200 \
		$'CapEff:\t0000000000000020' $'CapBnd:\t0000000000000021' $'NoNewPrivs:\t1')
	[[ $out == "$want" ]] || { printf 'got:\n%s\nwant:\n%s\n' "$out" "$want" >>"$LOG"; return 1; }
	sed -i 's/"CAP_KILL", "CAP_CHOWN"/"CAP_KILL", "CAP_NO_SUCH"/' "$b/config.json"
	"${RC[@]}" run --bundle "$b" proc 2>>"$LOG" && return 1
	grep -q 'unknown capability "CAP_NO_SUCH"' "$LOG"
}
rt_selected process-user && check process-user t_process

# ---- process.terminal: the pty master goes to --console-socket, as runc sends it ----
t_console() {
	local b sock=$RT_TMP/console.sock out=$RT_TMP/console.out
	command -v python3 >/dev/null || { echo "no python3 for the console socket end" >>"$LOG"; return 1; }
	b=$(bundle console '[ -t 0 ] && [ -t 1 ] && echo isatty; stty size' '' '' '"consoleSize": {"height": 30, "width": 100}')
	sed -i 's/"terminal": false/"terminal": true/' "$b/config.json"
	: >"$LOG"
	"${RC[@]}" create --bundle "$b" console 2>>"$LOG" && return 1 # terminal needs the socket
	grep -q "console-socket is required" "$LOG" || return 1
	python3 tests/oci/console.py "$sock" "$out" >/dev/null 2>>"$LOG" &
	local helper=$!
	for ((i = 0; i < 100; i++)); do [[ -S $sock ]] && break; sleep 0.05; done
	"${RC[@]}" create --bundle "$b" --console-socket "$sock" console 2>>"$LOG" || { kill $helper; return 1; }
	"${RC[@]}" start console 2>>"$LOG" || return 1
	wait_status console stopped || return 1
	wait $helper || return 1
	"${RC[@]}" delete console 2>>"$LOG" || return 1
	[[ $(tr -d '\r' <"$out") == $'isatty\n30 100' ]] || { echo "console: $(cat -A "$out")" >>"$LOG"; return 1; }
}
rt_selected console-socket && check console-socket t_console

# exec -t: the exec'd process's own pty, through --console-socket too; the master sees the end
# when the process exits (the Sentry keeps no copy of the slave), and a second exec -t gets one.
t_exec_tty() {
	local b sock=$RT_TMP/exec-console.sock out=$RT_TMP/exec-console.out n
	command -v python3 >/dev/null || { echo "no python3 for the console socket end" >>"$LOG"; return 1; }
	b=$(bundle exectty 'while :; do sleep 0.05; done')
	: >"$LOG"
	"${RC[@]}" run -d --bundle "$b" exectty 2>>"$LOG" || return 1
	for n in 1 2; do
		rm -f "$sock"
		python3 tests/oci/console.py "$sock" "$out.$n" >/dev/null 2>>"$LOG" &
		local helper=$!
		for ((i = 0; i < 100; i++)); do [[ -S $sock ]] && break; sleep 0.05; done
		"${RC[@]}" exec -t --console-socket "$sock" exectty \
			sh -c '[ -t 0 ] && [ -t 1 ] && echo exec isatty; tty' 2>>"$LOG" || { kill $helper; return 1; }
		timeout 20 tail --pid=$helper -f /dev/null || { echo "exec $n: the master saw no end" >>"$LOG"; kill $helper; return 1; }
		wait $helper || return 1
		# the sandbox's terminal (init has none): /dev/pts/0, as in runc's new devpts instance
		[[ $(tr -d '\r' <"$out.$n") == $'exec isatty\n/dev/pts/0' ]] ||
			{ echo "exec console $n: $(cat -A "$out.$n")" >>"$LOG"; return 1; }
	done
	"${RC[@]}" delete --force exectty 2>>"$LOG"
}
rt_selected exec-tty && check exec-tty t_exec_tty

# ---- kill: of a created container (the spec allows it), by number, --all ----
t_kill_created() {
	local b
	b=$(bundle killcreated 'echo should not run')
	: >"$LOG"
	"${RC[@]}" create --bundle "$b" killcreated >"$RT_TMP/kc.out" 2>>"$LOG" || return 1
	"${RC[@]}" kill killcreated 9 2>>"$LOG" || return 1
	wait_status killcreated stopped || return 1
	[[ ! -s $RT_TMP/kc.out ]] || return 1
	[[ $(cat "$ROOT/killcreated/exit") == 137 ]] || return 1
	"${RC[@]}" delete killcreated 2>>"$LOG" && [[ ! -e $ROOT/killcreated ]]
}
rt_selected kill-created && check kill-created t_kill_created

t_kill_all() {
	local b
	# init ignores TERM (no handler: a pid namespace's init is protected); its children do not
	b=$(bundle killall 'sleep 100 & sleep 100 & wait')
	: >"$LOG"
	"${RC[@]}" run -d --bundle "$b" killall 2>>"$LOG" || return 1
	"${RC[@]}" kill killall SIGTERM 2>>"$LOG" || return 1
	sleep 0.3
	[[ $(status killall) == running ]] || { echo "init died of an unhandled TERM" >>"$LOG"; return 1; }
	"${RC[@]}" kill --all killall KILL 2>>"$LOG" || return 1
	wait_status killall stopped || return 1
	# once stopped: --all signals nobody and succeeds (runc; containerd's shim relies on it),
	# a plain kill is an error
	"${RC[@]}" kill --all killall KILL 2>>"$LOG" || { echo "kill --all of a stopped container failed" >>"$LOG"; return 1; }
	"${RC[@]}" kill killall KILL 2>>"$LOG" && return 1
	"${RC[@]}" kill killall nosuchsignal 2>>"$LOG" && return 1
	"${RC[@]}" delete killall 2>>"$LOG"
}
rt_selected kill-all && check kill-all t_kill_all

# ---- delete --force of a running container leaves no process and no file ----
t_delete_force() {
	local b pids
	b=$(bundle delforce 'while :; do sleep 1; done')
	: >"$LOG"
	"${RC[@]}" run --detach --bundle "$b" delforce 2>>"$LOG" || return 1
	pids=$(sandbox_pids delforce)
	"${RC[@]}" delete delforce 2>>"$LOG" && { echo "delete without --force succeeded" >>"$LOG"; return 1; }
	"${RC[@]}" delete --force delforce 2>>"$LOG" || return 1
	[[ ! -e $ROOT/delforce ]] || { echo "state dir left" >>"$LOG"; return 1; }
	# shellcheck disable=SC2086
	all_gone $pids || { echo "processes left of: $pids" >>"$LOG"; return 1; }
	"${RC[@]}" delete --force delforce 2>>"$LOG" || return 1 # gone already: fine with --force
	# a create killed before it recorded anything leaves a directory that delete removes
	mkdir -p "$ROOT/killedcreate"
	[[ $(status killedcreate) == stopped ]] || return 1
	"${RC[@]}" delete killedcreate 2>>"$LOG" && [[ ! -e $ROOT/killedcreate ]]
}
rt_selected delete-force && check delete-force t_delete_force

# ---- a container's gofer has a network namespace of its own (not the Sentry's, which the
# runtime's hooks may configure, nor the host's) ----
t_gofer_netns() {
	local b sentry gofer host
	b=$(bundle gofernet 'while :; do sleep 1; done')
	: >"$LOG"
	"${RC[@]}" run --detach --bundle "$b" gofernet 2>>"$LOG" || return 1
	sentry=$(grep -oE '"sentry": ?[0-9]+' "$ROOT/gofernet/pids" | grep -oE '[0-9]+$')
	gofer=$(grep -oE '"gofer": ?[0-9]+' "$ROOT/gofernet/pids" | grep -oE '[0-9]+$')
	host=$(readlink /proc/self/ns/net)
	local sn gn
	sn=$(readlink "/proc/$sentry/ns/net")
	gn=$(readlink "/proc/$gofer/ns/net")
	echo "sentry $sentry $sn, gofer $gofer $gn, host $host" >>"$LOG"
	"${RC[@]}" delete --force gofernet 2>>"$LOG" || return 1
	[[ -n $sn && -n $gn && $gn != "$sn" && $gn != "$host" && $sn != "$host" ]]
}
rt_selected gofer-netns && check gofer-netns t_gofer_netns

# ---- two containers side by side ----
t_two() {
	local a b
	a=$(bundle twoa 'while :; do hostname > /tmp/h; sleep 0.05; done')
	b=$(bundle twob 'while :; do hostname > /tmp/h; sleep 0.05; done')
	: >"$LOG"
	"${RC[@]}" run -d --bundle "$a" twoa 2>>"$LOG" || return 1
	"${RC[@]}" run -d --bundle "$b" twob 2>>"$LOG" || return 1
	"${RC[@]}" list -f json | grep -q '"id":"twoa"' || return 1
	"${RC[@]}" list | grep -q twob || return 1
	"${RC[@]}" kill twoa KILL 2>>"$LOG" || return 1
	wait_status twoa stopped || return 1
	[[ $(status twob) == running ]] || { echo "twob stopped with twoa" >>"$LOG"; return 1; }
	"${RC[@]}" delete twoa && "${RC[@]}" delete --force twob 2>>"$LOG" || return 1
	[[ -z $(ls -A "$ROOT") ]] || { echo "left in --root: $(ls -A "$ROOT")" >>"$LOG"; return 1; }
}
rt_selected two-containers && check two-containers t_two

# ---- locking: one create of an id wins ----
t_same_id() {
	local b
	b=$(bundle sameid 'sleep 100')
	: >"$LOG"
	"${RC[@]}" create --bundle "$b" sameid 2>>"$LOG" &
	"${RC[@]}" create --bundle "$b" sameid 2>>"$LOG" &
	local ok=0
	wait %1 && ok=$((ok + 1))
	wait %2 && ok=$((ok + 1))
	[[ $ok == 1 ]] || { echo "$ok creates succeeded" >>"$LOG"; return 1; }
	grep -q "already exists" "$LOG" || return 1
	"${RC[@]}" delete sameid 2>>"$LOG" # created: deleted without --force, as runc
}
rt_selected same-id && check same-id t_same_id

# ---- bad bundles: a clear error, non-zero, nothing in --root ----
bad_bundle() {
	local label=$1 want=$2 dir=$3 name=${4:-$1}
	: >"$LOG"
	if "${RC[@]}" --log "$RT_TMP/bad.json" --log-format json create --bundle "$dir" "$name" 2>>"$LOG"; then
		rt_result "bad-$label" fail "create succeeded"
		"${RC[@]}" delete --force "$name"
	elif ! grep -q -- "$want" "$LOG"; then
		rt_result "bad-$label" fail "message lacks '$want':" "$(cat "$LOG")"
	elif [[ -e $ROOT/$name ]]; then
		rt_result "bad-$label" fail "left $ROOT/$name"
	elif ! tail -1 "$RT_TMP/bad.json" | grep -qE '^\{"level":"error","msg":".+","time":"[0-9T:Z-]+"\}$'; then
		rt_result "bad-$label" fail "no JSON error line: $(tail -1 "$RT_TMP/bad.json")"
	else
		rt_result "bad-$label" pass
	fi
}
if rt_selected bad-; then
	d=$RT_TMP/bundles/noconfig
	mkdir -p "$d"
	bad_bundle noconfig "config.json: No such file" "$d"
	d=$(bundle badjson 'true')
	echo '{"ociVersion": "1.0.2", "process": {' >"$d/config.json"
	bad_bundle badjson "invalid JSON" "$d"
	d=$(bundle badversion 'true')
	sed -i 's/"ociVersion": "1.0.2"/"ociVersion": "2.0.0"/' "$d/config.json"
	bad_bundle badversion 'ociVersion "2.0.0" is not supported' "$d"
	d=$(bundle noroot 'true' '' '{"path": "no-such-rootfs"}')
	bad_bundle noroot "root.path no-such-rootfs" "$d"
	d=$(bundle badns 'true')
	sed -i 's/{"type": "pid"}/{"type": "pid"}, {"type": "bogus"}/' "$d/config.json"
	bad_bundle badns 'unknown namespace type "bogus"' "$d"
	d=$(bundle unsupported 'true' '"solaris": {}')
	bad_bundle unsupported "solaris: not supported" "$d"
	d=$(bundle badhook 'true' '"hooks": {"createContainer": [{"path": "/bin/true"}]}')
	bad_bundle badhook "hooks.createContainer: not supported" "$d"
	d=$(bundle failhook 'true' '"hooks": {"prestart": [{"path": "/bin/false"}]}')
	bad_bundle failhook "prestart\[0\] /bin/false: exit status 1" "$d"
	d=$(bundle bindmount 'true' '"annotations": {}')
	sed -i 's|{"destination": "/proc"|{"destination": "/mnt", "type": "bind", "source": "/dev/null", "options": ["rbind", "ro"]}, {"destination": "/proc"|' "$d/config.json"
	bad_bundle bindmount "bind source /dev/null: only directories and regular files" "$d"
	# A device to create (linux.devices) is refused; device cgroup rules are not (device-rules).
	d=$(bundle hostdev 'true')
	sed -i 's|"namespaces"|"devices": [{"path": "/dev/fuse", "type": "c", "major": 10, "minor": 229}], "namespaces"|' "$d/config.json"
	bad_bundle hostdev "linux.devices: not supported" "$d"
	d=$(bundle badid 'true')
	bad_bundle badid "invalid container id" "$d" "../escape"
fi

# ---- linux.resources.devices: allow rules (ctr's default spec has /dev/fuse, tun) grant nothing
# the Sentry does not have, so they are accepted; the container still has no such device ----
t_device_rules() {
	local b out
	b=$(bundle devrules '[ -e /dev/fuse ] && echo fuse; [ -e /dev/net/tun ] && echo tun; echo done')
	sed -i 's|"namespaces"|"resources": {"devices": [{"allow": false, "access": "rwm"}, {"allow": true, "type": "c", "major": 1, "minor": 3, "access": "rwm"}, {"allow": true, "type": "c", "major": 10, "minor": 229, "access": "rwm"}, {"allow": true, "type": "c", "major": 10, "minor": 200, "access": "rwm"}]}, "namespaces"|' "$b/config.json"
	: >"$LOG"
	out=$("${RC[@]}" run --bundle "$b" devrules 2>>"$LOG") || return 1
	[[ $out == done ]] || { echo "device-rules: $out" >>"$LOG"; return 1; }
	sed -i 's|{"allow": true, "type": "c", "major": 1, "minor": 3, "access": "rwm"}|{"type": "c"}|' "$b/config.json"
	"${RC[@]}" create --bundle "$b" devrules 2>>"$LOG" && return 1
	grep -qF 'linux.resources.devices[].allow is required' "$LOG"
}
rt_selected device-rules && check device-rules t_device_rules

# ---- exec and ps in a running container ----
t_exec() {
	local b out proc=$RT_TMP/exec-process.json
	b=$(bundle execs 'while :; do sleep 0.05; done')
	: >"$LOG"
	"${RC[@]}" run -d --bundle "$b" execs 2>>"$LOG" || return 1
	out=$("${RC[@]}" exec execs echo hello exec 2>>"$LOG") && [[ $out == "hello exec" ]] ||
		{ echo "exec echo: $out" >>"$LOG"; return 1; }
	"${RC[@]}" exec execs sh -c 'exit 4' 2>>"$LOG"
	[[ $? == 4 ]] || { echo "exec exit code" >>"$LOG"; return 1; }
	out=$("${RC[@]}" exec --env FOO=bar --cwd /bin --user 1000:1000 execs sh -c 'echo $FOO $(pwd) $(id -u)' 2>>"$LOG")
	[[ $out == "bar /bin 1000" ]] || { echo "exec flags: $out" >>"$LOG"; return 1; }
	"${RC[@]}" exec execs no-such-program 2>>"$LOG"
	[[ $? == 127 ]] || { echo "exec of a missing program" >>"$LOG"; return 1; }
	cat >"$proc" <<'EOF2'
{"user": {"uid": 0, "gid": 0}, "args": ["sh", "-c", "echo from process file; sleep 30"], "env": ["PATH=/bin"], "cwd": "/"}
EOF2
	"${RC[@]}" exec -d --pid-file "$RT_TMP/exec.pid" --process "$proc" execs >"$RT_TMP/exec.out" 2>>"$LOG" || return 1
	local hostpid
	hostpid=$(cat "$RT_TMP/exec.pid")
	kill -0 "$hostpid" || { echo "exec -d pid $hostpid not running" >>"$LOG"; return 1; }
	for ((i = 0; i < 100; i++)); do grep -q "from process file" "$RT_TMP/exec.out" && break; sleep 0.05; done
	grep -q "from process file" "$RT_TMP/exec.out" || { echo "no output of exec --process" >>"$LOG"; return 1; }
	out=$("${RC[@]}" ps --format json execs 2>>"$LOG")
	jq -e 'index(1) != null and length >= 3' <<<"$out" >/dev/null || { echo "ps: $out" >>"$LOG"; return 1; }
	"${RC[@]}" ps execs | head -1 | grep -q PID || return 1
	"${RC[@]}" kill --all execs KILL 2>>"$LOG" || return 1
	wait_status execs stopped || return 1
	all_gone "$hostpid" || { echo "exec -d waiter left" >>"$LOG"; return 1; }
	"${RC[@]}" exec execs true 2>>"$LOG" && return 1 # stopped
	"${RC[@]}" delete execs 2>>"$LOG"
}
rt_selected exec && check exec t_exec

# ---- pause and resume: no progress while paused ----
t_pause() {
	local b out=$RT_TMP/pause.out n1 n2
	b=$(bundle pausing 'while :; do echo x; sleep 0.02; done')
	: >"$LOG"
	"${RC[@]}" create --bundle "$b" pausing >"$out" 2>>"$LOG" || return 1
	"${RC[@]}" pause pausing 2>>"$LOG" && return 1 # created: nothing to pause
	"${RC[@]}" start pausing 2>>"$LOG" || return 1
	sleep 0.3
	"${RC[@]}" pause pausing 2>>"$LOG" || return 1
	[[ $(status pausing) == paused ]] || return 1
	n1=$(wc -l <"$out")
	sleep 0.5
	n2=$(wc -l <"$out")
	[[ $n1 == "$n2" ]] || { echo "ran while paused: $n1 -> $n2" >>"$LOG"; return 1; }
	"${RC[@]}" delete pausing 2>>"$LOG" && return 1 # paused: needs --force
	"${RC[@]}" resume pausing 2>>"$LOG" || return 1
	[[ $(status pausing) == running ]] || return 1
	sleep 0.3
	n2=$(wc -l <"$out")
	((n2 > n1)) || { echo "no progress after resume" >>"$LOG"; return 1; }
	"${RC[@]}" pause pausing 2>>"$LOG" || return 1
	"${RC[@]}" delete --force pausing 2>>"$LOG" || return 1 # a paused container dies too
	[[ ! -e $ROOT/pausing ]]
}
rt_selected pause && check pause-resume t_pause

# ---- events: stats once, and every interval until the container stops ----
t_events() {
	local b out
	b=$(bundle events 'sleep 1')
	: >"$LOG"
	"${RC[@]}" run -d --bundle "$b" events 2>>"$LOG" || return 1
	out=$("${RC[@]}" events --stats events 2>>"$LOG") || return 1
	jq -e '.type == "stats" and .id == "events" and .data.pids.current >= 1 and .data.memory.usage.usage > 0' \
		<<<"$out" >/dev/null || { echo "events --stats: $out" >>"$LOG"; return 1; }
	out=$(timeout 10 "${RC[@]}" events --interval 100ms events 2>>"$LOG") || return 1
	(($(wc -l <<<"$out") >= 2)) || { echo "events: $out" >>"$LOG"; return 1; }
	"${RC[@]}" delete --force events 2>>"$LOG"
}
rt_selected events && check events t_events

# ---- linux.resources: limits on the whole sandbox through the host's cgroups ----
t_resources() {
	local b parent=runsc-c-oci-test-$$ cg
	cg=$parent/res
	[[ -d /sys/fs/cgroup/memory && -d /sys/fs/cgroup/pids && -d /sys/fs/cgroup/cpu ]] ||
		{ echo "no cgroup v1 memory/pids/cpu controllers here" >>"$LOG"; return 1; }
	b=$(bundle resources 'while :; do sleep 0.05; done')
	sed -i 's|"namespaces"|"cgroupsPath": "/'$cg'", "resources": {"memory": {"limit": 268435456, "swap": 536870912}, "pids": {"limit": 100}, "cpu": {"shares": 512, "quota": 50000, "period": 100000}}, "namespaces"|' "$b/config.json"
	: >"$LOG"
	"${RC[@]}" run -d --bundle "$b" resources 2>>"$LOG" || return 1
	local pid ok=1
	pid=$(sandbox_pids resources | head -1)
	[[ $(cat /sys/fs/cgroup/memory/$cg/memory.limit_in_bytes) == 268435456 ]] || ok=0
	if [[ -e /sys/fs/cgroup/memory/$cg/memory.memsw.limit_in_bytes ]]; then # swap accounting on
		[[ $(cat /sys/fs/cgroup/memory/$cg/memory.memsw.limit_in_bytes) == 536870912 ]] || ok=0
	fi
	[[ $(cat /sys/fs/cgroup/pids/$cg/pids.max) == 100 ]] || ok=0
	[[ $(cat /sys/fs/cgroup/cpu/$cg/cpu.shares) == 512 ]] || ok=0
	[[ $(cat /sys/fs/cgroup/cpu/$cg/cpu.cfs_quota_us) == 50000 ]] || ok=0
	grep -qx "$pid" /sys/fs/cgroup/memory/$cg/cgroup.procs || ok=0 # the supervisor
	(($(wc -l </sys/fs/cgroup/pids/$cg/cgroup.procs) >= 3)) || ok=0 # and the gofer and Sentry
	((ok)) || { echo "limits or members wrong in $cg" >>"$LOG"; }
	"${RC[@]}" delete --force resources 2>>"$LOG" || ok=0
	for c in memory pids cpu; do
		[[ ! -d /sys/fs/cgroup/$c/$cg ]] || { echo "left /sys/fs/cgroup/$c/$cg" >>"$LOG"; ok=0; }
		rmdir "/sys/fs/cgroup/$c/$parent" 2>/dev/null
	done
	sed -i 's|"memory": {"limit": 268435456, "swap": 536870912}|"memory": {"limit": 268435456, "swappiness": 10}|' "$b/config.json"
	"${RC[@]}" create --bundle "$b" resources 2>>"$LOG" && ok=0
	grep -q "linux.resources.memory.swappiness: not supported yet" "$LOG" || ok=0
	((ok))
}
rt_selected resources && check resources t_resources

# ---- hooks: on the host, with the state on stdin, at their points of the lifecycle ----
t_hooks() {
	local b h=$RT_TMP/hook.sh out=$RT_TMP/hooks.out
	printf '#!/bin/sh\n{ printf "%%s " "$1"; cat; echo; } >> %s\n' "$out" >"$h"
	chmod +x "$h"
	local hook='{"path": "'$h'", "args": ["hook.sh", "KIND"]}'
	b=$(bundle hooks 'sleep 0.2' '"hooks": {"prestart": ['"${hook/KIND/prestart}"'], "createRuntime": ['"${hook/KIND/createRuntime}"'], "poststart": ['"${hook/KIND/poststart}"'], "poststop": ['"${hook/KIND/poststop}"']}')
	: >"$LOG"
	: >"$out"
	"${RC[@]}" create --bundle "$b" hooks 2>>"$LOG" || return 1
	"${RC[@]}" start hooks 2>>"$LOG" || return 1
	wait_status hooks stopped || return 1
	"${RC[@]}" delete hooks 2>>"$LOG" || return 1
	local got
	got=$(while read -r kind json; do
		printf '%s %s\n' "$kind" "$(jq -r '.id + " " + .status' <<<"$json")"
	done <"$out")
	[[ $got == $'prestart hooks created\ncreateRuntime hooks created\npoststart hooks running\npoststop hooks stopped' ]] ||
		{ printf 'hooks ran as:\n%s\n' "$got" >>"$LOG"; return 1; }
}
rt_selected hooks && check hooks t_hooks

# ---- a read-only root: writes get EROFS ----
t_readonly() {
	local b out
	b=$(bundle rdonly '{ echo x > /file; } 2>&1; echo rc=$?' '' '{"path": "rootfs", "readonly": true}')
	: >"$LOG"
	out=$("${RC[@]}" run --bundle "$b" rdonly 2>>"$LOG") || return 1
	[[ $out == *"Read-only file system"* ]]
}
rt_selected readonly-root && check readonly-root t_readonly

# ---- a tmpfs mount somewhere of its own ----
t_tmpfs() {
	local b out
	b=$(bundle tmpfsmount 'grep " /scratch " /proc/mounts && echo x > /scratch/f && cat /scratch/f')
	sed -i 's|{"destination": "/proc"|{"destination": "/scratch", "type": "tmpfs", "source": "tmpfs"}, {"destination": "/proc"|' "$b/config.json"
	: >"$LOG"
	out=$("${RC[@]}" run --bundle "$b" tmpfsmount 2>>"$LOG") || return 1
	[[ $out == *tmpfs*x ]]
}
rt_selected tmpfs-mount && check tmpfs-mount t_tmpfs

# ---- bind mounts: a read-write one whose writes reach the host, a read-only one (EROFS), a
# relative source (relative to the bundle), and a cgroup mount (empty and read-only) ----
t_bind() {
	local b out h=$RT_TMP/bindhost
	rm -rf "$h" && mkdir -p "$h/rw" "$h/ro" && echo host-file >"$h/ro/f"
	b=$(bundle bindm 'cat /ro/f; echo new > /rw/made && mkdir /rw/d; { echo x > /ro/g; } 2>&1; echo ro=$?; ls /sys/fs/cgroup | wc -l; touch /sys/fs/cgroup/x 2>/dev/null; echo cg=$?; cat /rel/f')
	mkdir -p "$b/relsrc" && echo relative >"$b/relsrc/f"
	jq --arg rw "$h/rw" --arg ro "$h/ro" '.mounts += [
		{"destination": "/rw", "type": "bind", "source": $rw, "options": ["rbind", "rw"]},
		{"destination": "/ro", "type": "bind", "source": $ro, "options": ["rbind", "ro"]},
		{"destination": "/rel", "type": "none", "source": "relsrc", "options": ["bind"]},
		{"destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup", "options": ["ro"]}]' \
		"$b/config.json" >"$b/c" && mv "$b/c" "$b/config.json"
	: >"$LOG"
	out=$("${RC[@]}" run --bundle "$b" bindm 2>>"$LOG") || return 1
	[[ $out == $'host-file\n'*"Read-only file system"$'\nro=1\n0\ncg=1\nrelative' ]] ||
		{ printf 'output:\n%s\n' "$out" >>"$LOG"; return 1; }
	[[ $(cat "$h/rw/made") == new && -d $h/rw/d && ! -e $h/ro/g ]] ||
		{ echo "host side: $(ls -R "$h")" >>"$LOG"; return 1; }
}
rt_selected bind-mounts && check bind-mounts t_bind

# ---- a missing bind source: a clear error naming the entry, nothing left behind ----
t_bind_missing() {
	local b
	b=$(bundle bindmiss 'true')
	jq '.mounts += [{"destination": "/x", "type": "bind", "source": "/nonexistent-runsc-c", "options": ["bind"]}]' \
		"$b/config.json" >"$b/c" && mv "$b/c" "$b/config.json"
	: >"$LOG"
	"${RC[@]}" create --bundle "$b" bindmiss 2>>"$LOG" && return 1
	grep -q 'mounts\[5\]: bind source /nonexistent-runsc-c' "$LOG" && [[ ! -e $ROOT/bindmiss ]]
}
rt_selected bind-missing && check bind-missing t_bind_missing

# ---- linux.seccomp: the Sentry applies the profile to the container's calls. Each case runs
# the same bundle with runc (the reference, when installed) and runsc-c: stdout, stderr and the
# exit status must be the expected ones under both ----
SC_ALLOW='"arch_prctl","brk","clone","close","dup2","execve","exit","exit_group","fcntl",
 "getdents64","getpid","getppid","getrandom","getuid","geteuid","getgid","getegid","ioctl",
 "mmap","mprotect","munmap","newfstatat","fstat","stat","lstat","openat","open","prctl",
 "prlimit64","read","readlink","rseq","rt_sigaction","rt_sigprocmask","rt_sigreturn",
 "sendfile","set_robust_list","set_tid_address","uname","wait4","write","futex","nanosleep",
 "sched_yield","tgkill","gettid","close_range","capget","capset","setgroups","sigaltstack",
 "madvise","fchdir","chdir","getcwd","epoll_pwait","epoll_ctl","pipe2","access","faccessat",
 "faccessat2","lseek","dup","dup3","fchown","setuid","setgid","statx","waitid","fstatfs",
 "statfs","not_a_syscall_name"'
# seccomp_case NAME CMD PROFILE WANT_STATUS WANT_STDOUT WANT_STDERR
seccomp_case() {
	local name=$1 cmd=$2 profile=$3 st=$4 want_out=$5 want_err=$6 b rt out err got
	b=$(bundle "$name" "$cmd")
	# runc wants the rootfs by its real path, not through the bundle's symlink
	jq --argjson sc "$profile" --arg r "$ROOTFS" '.linux.seccomp = $sc | .root.path = $r' \
		"$b/config.json" >"$b/c" && mv "$b/c" "$b/config.json"
	: >"$LOG"
	local runtimes=("${RC[@]}")
	command -v runc >/dev/null && runtimes=(runc --root "$RT_TMP/runc-root" -- "${RC[@]}")
	while ((${#runtimes[@]})); do
		rt=()
		while ((${#runtimes[@]})) && [[ ${runtimes[0]} != -- ]]; do
			rt+=("${runtimes[0]}")
			runtimes=("${runtimes[@]:1}")
		done
		runtimes=("${runtimes[@]:1}")
		out=$(cd "$b" && "${rt[@]}" run "$name-$RANDOM" 2>"$RT_TMP/sc.err")
		got=$?
		err=$(grep -v 'level=error' "$RT_TMP/sc.err")
		if [[ $got != "$st" || $out != "$want_out" || $err != "$want_err" ]]; then
			printf '%s: status %s (want %s)\nstdout:\n%s\nstderr:\n%s\n' "${rt[0]}" "$got" \
				"$st" "$out" "$(cat "$RT_TMP/sc.err")" >>"$LOG"
			return 1
		fi
	done
}

# default ALLOW; mkdir EPERM; kill with signal 0 EACCES (an args condition), other signals pass
t_seccomp_rules() {
	seccomp_case scrules 'mkdir /tmp/d; echo mkdir=$?; kill -0 $$; echo kill0=$?; kill -CONT $$; echo cont=$?' \
		'{"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_X86_64"],
		  "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1},
			       {"names": ["kill"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13,
				"args": [{"index": 1, "value": 0, "op": "SCMP_CMP_EQ"}]},
			       {"names": ["kill"], "action": "SCMP_ACT_ALLOW",
				"args": [{"index": 1, "value": 18, "op": "SCMP_CMP_EQ"}]}]}' \
		0 $'mkdir=1\nkill0=1\ncont=0' \
		$'mkdir: can\'t create directory \'/tmp/d\': Operation not permitted\nsh: can\'t kill pid 1: Permission denied'
}
rt_selected seccomp-rules && check seccomp-rules t_seccomp_rules

# SCMP_ACT_KILL: the process dies of SIGSYS (128+31); SCMP_ACT_TRAP: a SIGSYS handler runs and
# the call is not made (rax rolled back to the number: kill "succeeds" with 62, no errno)
t_seccomp_kill() {
	seccomp_case sckill 'echo before; kill -0 $$; echo after' \
		'{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["kill"], "action": "SCMP_ACT_KILL"}]}' \
		159 before '' &&
		seccomp_case sctrap 'trap "echo caught" SYS; kill -0 $$; echo after=$?' \
			'{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["kill"], "action": "SCMP_ACT_TRAP"}]}' \
			0 $'caught\nafter=1' "sh: can't kill pid 1"
}
rt_selected seccomp-kill && check seccomp-kill t_seccomp_kill

# podman's shape: default ERRNO 38 (ENOSYS) with an allow-list busybox sh runs with; a name the
# x86-64 table does not know is skipped
t_seccomp_allowlist() {
	seccomp_case scallow 'echo hi; ls /bin | grep -c busybox; mkdir /tmp/d; echo mkdir=$?' \
		'{"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 38,
		  "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
		  "syscalls": [{"names": ['"$SC_ALLOW"'], "action": "SCMP_ACT_ALLOW"}]}' \
		0 $'hi\n1\nmkdir=1' "mkdir: can't create directory '/tmp/d': Function not implemented"
}
rt_selected seccomp-allowlist && check seccomp-allowlist t_seccomp_allowlist

# the container's profile covers `exec` processes too (runc applies it to them as well)
t_seccomp_exec() {
	local b out
	b=$(bundle scexec 'while :; do sleep 0.05; done')
	jq '.linux.seccomp = {"defaultAction": "SCMP_ACT_ALLOW",
		"syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1}]}' \
		"$b/config.json" >"$b/c" && mv "$b/c" "$b/config.json"
	: >"$LOG"
	"${RC[@]}" run -d --bundle "$b" scexec 2>>"$LOG" || return 1
	out=$("${RC[@]}" exec scexec sh -c 'mkdir /tmp/e 2>&1; echo $?' 2>>"$LOG")
	"${RC[@]}" delete --force scexec 2>>"$LOG"
	[[ $out == *"Operation not permitted"$'\n1' ]] || { echo "exec: $out" >>"$LOG"; return 1; }
}
rt_selected seccomp-exec && check seccomp-exec t_seccomp_exec

# what cannot be honoured is refused, naming the field; nothing is left behind
t_seccomp_refused() {
	local b p
	for p in '{"defaultAction": "SCMP_ACT_ALLOW", "listenerPath": "/run/agent.sock"}' \
		'{"defaultAction": "SCMP_ACT_NOTIFY"}' \
		'{"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_AARCH64"]}' \
		'{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["kill"], "action": "SCMP_ACT_ERRNO", "args": [{"index": 6, "value": 0, "op": "SCMP_CMP_EQ"}]}]}' \
		'{"defaultAction": "SCMP_ACT_BOGUS"}'; do
		b=$(bundle screfused 'true')
		jq --argjson sc "$p" '.linux.seccomp = $sc' "$b/config.json" >"$b/c" && mv "$b/c" "$b/config.json"
		: >"$LOG"
		"${RC[@]}" create --bundle "$b" screfused 2>>"$LOG" && return 1
		grep -q 'linux.seccomp' "$LOG" && [[ ! -e $ROOT/screfused ]] || return 1
	done
}
rt_selected seccomp-refused && check seccomp-refused t_seccomp_refused

# ---- spec, features ----
t_spec() {
	local d=$RT_TMP/spec
	mkdir -p "$d/rl"
	: >"$LOG"
	(cd "$d" && "${RC[@]}" spec) 2>>"$LOG" || return 1
	jq -e '.ociVersion and .process.args == ["sh"] and .root.path == "rootfs" and (.process.capabilities.bounding | length) == 3 and .process.noNewPrivileges' "$d/config.json" >/dev/null || return 1
	(cd "$d" && "${RC[@]}" spec) 2>>"$LOG" && return 1 # exists
	"${RC[@]}" spec --rootless --bundle "$d/rl" 2>>"$LOG" || return 1
	jq -e '.linux.uidMappings[0].hostID == '"$(id -u)" "$d/rl/config.json" >/dev/null || return 1
	# the default spec runs, with args and terminal changed for a pipe
	ln -s "$ROOTFS" "$d/rootfs"
	jq '.process.terminal = false | .process.args = ["echo", "default spec"]' "$d/config.json" >"$d/c" &&
		mv "$d/c" "$d/config.json"
	[[ $("${RC[@]}" run --bundle "$d" specrun 2>>"$LOG") == "default spec" ]]
}
rt_selected spec && check spec t_spec

t_features() {
	"${RC[@]}" features | jq -e '.ociVersionMin == "1.0.0" and (.linux.namespaces | index("pid"))' >/dev/null
}
rt_selected features && check features t_features

t_version() {
	"${RC[@]}" --version | grep -q "^runsc-c version" && "${RC[@]}" --version | grep -q "^spec: 1\."
}
rt_selected version && check version t_version

rt_finish
