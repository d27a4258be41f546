#!/bin/bash
# clients.sh: podman (with conmon) and containerd (with ctr and its runc shim) driving an OCI
# runtime, as issue 6 asks of runsc-c. Each case runs a short sequence of client commands against
# a local busybox image and writes a transcript (each command's stdout, then "[exit N]"); it passes
# when the transcript is the expected one. When RUNTIME is not runc, each case first runs with
# runc (the reference, which must give the expected transcript: otherwise the test or the host is
# broken), then with RUNTIME, and a failure shows the diff runc -> RUNTIME.
#   tests/oci/clients.sh [-v] [FILTER...]
# Environment:
#   RUNTIME            the runtime under test (default: runc from PATH), e.g. RUNTIME=build/runsc-c
#   CLIENTS_REFERENCE  0: no runc reference runs (default 1, when RUNTIME is not runc)
#   CLIENTS_RECORD     a directory that keeps each runtime's calls (argv, one per line) and the
#                      config.json / process.json the clients passed (see tests/oci/CLIENTS.md)
#   RT_TIMEOUT         seconds per client command (default 60)
#   RUNTIME_FLAGS      global flags the wrapper puts before every call of RUNTIME (not of runc),
#                      e.g. "--platform ptrace" (the clients themselves pass none to podman's)
# Nothing touches the machine's own podman or containerd: podman gets a test-local containers.conf
# and storage.conf, containerd is started by the test with its own root, state and socket, all
# under one temporary directory that is removed at the end, with every container, the containerd
# the test started and any mount left beneath it. A client that is not installed (and cannot be:
# tests/oci/clients-deps.sh needs root) is skipped with the reason.
# shellcheck disable=SC2317 # the cases and the clean-up are called by name and by the trap
# shellcheck disable=SC2016 # $PWD, $FOO... are for the container's shell
RUNTIME=${RUNTIME:-$(command -v runc || echo /usr/sbin/runc)}
[[ $RUNTIME == */* ]] || RUNTIME=$(command -v "$RUNTIME" || echo "$RUNTIME")
RUNTIME=$(realpath -m -- "$RUNTIME")
export RUNSC=$RUNTIME # rt_init's note when it is not an executable
# shellcheck source=tests/progs/lib.sh
source "$(dirname "$0")/../progs/lib.sh"
rt_init clients "$@"

REFERENCE=$(command -v runc || echo /usr/sbin/runc)
if [[ $RUNTIME -ef $REFERENCE ]]; then
	CLIENTS_REFERENCE=0
fi
CLIENTS_REFERENCE=${CLIENTS_REFERENCE:-1}
DRIVE=build/tests/tty/ptydrive
IMAGE=localhost/runsc-c-clients:latest
NS=runsc-c-clients-$$ # containerd namespace; also the cgroup parent of its containers
declare -A SKIP=() # client -> why it cannot run here

# ---------------------------------------------------------------------------------------------
# Set-up: packages, the image, podman's configuration, containerd.

tests/oci/clients-deps.sh || echo "note: clients-deps.sh failed; using what is installed" >&2
if [[ ! -x $DRIVE ]]; then
	make -s --no-print-directory "$DRIVE" >&2 || echo "note: cannot build $DRIVE" >&2
fi
for tool in podman conmon; do
	command -v "$tool" >/dev/null || SKIP[podman]="$tool is not installed (apt-get install podman)"
done
for tool in containerd ctr containerd-shim-runc-v2; do
	command -v "$tool" >/dev/null || SKIP[ctr]="$tool is not installed (apt-get install containerd)"
done
[[ -n ${SKIP[podman]-} && -z ${SKIP[ctr]-} ]] &&
	SKIP[ctr]="the image for ctr comes from podman save: ${SKIP[podman]}"

# Directories the runtime and the clients leave behind: the cgroups of containerd's containers
# (under /NS), of podman's and conmon's (cgroupfs: under /libpod_parent), the default state roots
# of runc and runsc-c (podman passes no --root). Those that are not there now are removed at the
# end if empty (a parallel run's are busy).
LEFT_DIRS=()
for h in /sys/fs/cgroup/*/; do
	LEFT_DIRS+=("$h$NS")
	[[ -e ${h}libpod_parent ]] || LEFT_DIRS+=("${h}libpod_parent")
done
for d in /run/runc /run/runsc-c; do
	[[ -e $d ]] || LEFT_DIRS+=("$d")
done

# containers/image keeps a blob cache in /var/lib/containers/cache for root whatever storage.conf
# says; remove it at the end if this test made it.
BLOB_CACHE=/var/lib/containers/cache
BLOB_CACHE_EXISTED=0
[[ -e $BLOB_CACHE ]] && BLOB_CACHE_EXISTED=1

declare -A SETUP_FAILED=()
CTRD_PID=

# ct_cleanup: removes every container, stops containerd, kills what is left of the processes the
# clients started for this test (conmon, shims: their command lines name RT_TMP), unmounts what
# is mounted under RT_TMP, then removes it.
ct_cleanup() {
	if [[ -z ${SKIP[podman]-} ]]; then
		timeout "$RT_TIMEOUT" podman rm -af -t 0 >/dev/null 2>&1
		timeout "$RT_TIMEOUT" podman rmi -af >/dev/null 2>&1
	fi
	if [[ -n $CTRD_PID ]]; then
		ct_ctr_gc
		timeout "$RT_TIMEOUT" "${CTR[@]}" images rm "$IMAGE" >/dev/null 2>&1
		kill "$CTRD_PID" 2>/dev/null
		local i
		for ((i = 0; i < 100; i++)); do
			kill -0 "$CTRD_PID" 2>/dev/null || break
			sleep 0.1
		done
		kill -9 "$CTRD_PID" 2>/dev/null
		wait "$CTRD_PID" 2>/dev/null
	fi
	local p
	for p in /proc/[0-9]*; do
		[[ ${p#/proc/} != "$$" ]] && grep -qaF "$RT_TMP/" "$p/cmdline" 2>/dev/null &&
			kill -9 "${p#/proc/}" 2>/dev/null
	done
	local m
	awk -v t="$RT_TMP/" 'index($5, t) == 1 { print $5 }' /proc/self/mountinfo | sort -r |
		while read -r m; do umount -l "$m"; done
	rm -rf "$RT_TMP"
	for m in "${LEFT_DIRS[@]}"; do
		[[ -d $m ]] && find "$m" -depth -type d -exec rmdir {} + 2>/dev/null
	done
	if ((!BLOB_CACHE_EXISTED)) && [[ -e $BLOB_CACHE ]]; then
		rm -rf "$BLOB_CACHE"
		rmdir /var/lib/containers 2>/dev/null
	fi
}
trap ct_cleanup EXIT

# Podman's configuration: test-local, everything under RT_TMP. Podman passes its default
# linux.seccomp profile, which runsc-c's Sentry applies to the container's calls as runc has the
# host kernel do (runsc-c/oci_seccomp.c).
PM=$RT_TMP/podman
mkdir -p "$PM"
cat >"$PM/containers.conf" <<EOF
[containers]
default_ulimits = ["nofile=1024:1024", "nproc=4096:4096"]
netns = "none"

[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "$PM/events.log"
image_copy_tmp_dir = "$PM/tmp"
tmp_dir = "$PM/libpod"
static_dir = "$PM/storage/libpod"
volume_path = "$PM/storage/volumes"

[network]
network_config_dir = "$PM/networks"
EOF
# overlay works here (the graph root is on ext4); vfs would copy the whole image per container.
cat >"$PM/storage.conf" <<EOF
[storage]
driver = "overlay"
graphroot = "$PM/storage"
runroot = "$PM/run"
EOF
mkdir -p "$PM/tmp"
export CONTAINERS_CONF=$PM/containers.conf CONTAINERS_STORAGE_CONF=$PM/storage.conf
export TMPDIR=$PM/tmp

# containerd's configuration: its own root, state and sockets; no CRI plugin.
CD=$RT_TMP/containerd
mkdir -p "$CD"
cat >"$CD/config.toml" <<EOF
version = 2
root = "$CD/root"
state = "$CD/state"
disabled_plugins = ["io.containerd.grpc.v1.cri"]

[grpc]
  address = "$CD/containerd.sock"

[ttrpc]
  address = "$CD/containerd.sock.ttrpc"

[debug]
  address = ""
EOF
CTR=(ctr -a "$CD/containerd.sock" -n "$NS")

# ct_setup_fail CLIENT WHAT LOG: the shared set-up of CLIENT failed; its cases will say so.
ct_setup_fail() {
	SETUP_FAILED[$1]="$2"$'\n'"$(tail -n 15 "$3" 2>/dev/null)"
}

# The image: Debian's busybox-static with its applet links, /etc/passwd and /etc/group.
make_image() {
	local root=$RT_TMP/rootfs a
	mkdir -p "$root"/{bin,etc,dev,proc,sys,tmp,root}
	chmod 1777 "$root/tmp"
	cp /bin/busybox "$root/bin/busybox"
	for a in $(/bin/busybox --list); do
		[[ $a == busybox ]] || ln -s busybox "$root/bin/$a"
	done
	echo 'root:x:0:0:root:/root:/bin/sh' >"$root/etc/passwd"
	echo 'nobody:x:65534:65534:nobody:/:/bin/sh' >>"$root/etc/passwd"
	printf 'root:x:0:\nnogroup:x:65534:\n' >"$root/etc/group"
	tar -C "$root" -cf "$RT_TMP/rootfs.tar" .
}

if [[ -z ${SKIP[podman]-} ]]; then
	log=$RT_TMP/setup-podman.log
	if [[ ! -x /bin/busybox ]]; then
		ct_setup_fail podman "/bin/busybox is missing (apt-get install busybox-static)" /dev/null
	elif ! make_image >"$log" 2>&1 ||
		! timeout 120 podman import "$RT_TMP/rootfs.tar" "$IMAGE" >>"$log" 2>&1; then
		ct_setup_fail podman "podman import of the busybox rootfs failed:" "$log"
	fi
fi
if [[ -z ${SKIP[ctr]-} ]]; then
	log=$RT_TMP/setup-ctr.log
	containerd --config "$CD/config.toml" >"$CD/containerd.log" 2>&1 &
	CTRD_PID=$!
	for ((i = 0; i < 200; i++)); do
		timeout 5 "${CTR[@]}" version >/dev/null 2>&1 && break
		kill -0 "$CTRD_PID" 2>/dev/null || break
		sleep 0.1
	done
	if ! timeout 5 "${CTR[@]}" version >/dev/null 2>&1; then
		ct_setup_fail ctr "containerd did not start:" "$CD/containerd.log"
	elif [[ -n ${SETUP_FAILED[podman]-} ]]; then
		SETUP_FAILED[ctr]="no image: ${SETUP_FAILED[podman]}"
	elif ! timeout 120 podman save --format oci-archive -o "$RT_TMP/image.tar" "$IMAGE" >"$log" 2>&1 ||
		! timeout 120 "${CTR[@]}" images import "$RT_TMP/image.tar" >>"$log" 2>&1; then
		ct_setup_fail ctr "podman save | ctr images import failed:" "$log"
	fi
fi

# ---------------------------------------------------------------------------------------------
# The runtime wrapper: records each call, then execs the runtime.

# ct_wrapper LABEL BINARY [FLAG...]: writes $RT_TMP/LABEL/runtime, which appends its argv
# (shell-quoted, one line) to $RT_TMP/LABEL/calls, keeps a copy of the bundle's config.json
# (--bundle) or of the --process file as $RT_TMP/LABEL/{config,process}.N.json, and execs BINARY
# with the FLAGs before its arguments.
ct_wrapper() {
	local dir=$RT_TMP/$1 flags=
	(($# > 2)) && flags=$(printf '%q ' "${@:3}")
	mkdir -p "$dir"
	cat >"$dir/runtime" <<EOF
#!/bin/bash
dir=$(printf '%q' "$dir")
n=\$(date +%s%N)
{ printf '%q ' "\$(basename "\$0")" "\$@"; echo; } >>"\$dir/calls"
prev=
for a in "\$@"; do
	case \$prev in
	--bundle | -b) cp -- "\$a/config.json" "\$dir/config.\$n.json" 2>/dev/null ;;
	--process | -p) cp -- "\$a" "\$dir/process.\$n.json" 2>/dev/null ;;
	esac
	prev=\$a
done
exec $(printf '%q' "$2") $flags"\$@"
EOF
	chmod +x "$dir/runtime"
	: >"$dir/calls"
}

# ---------------------------------------------------------------------------------------------
# Helpers of the cases. A case is a function that prints its transcript on stdout (its stderr
# goes to a log shown on failure); RT is the runtime wrapper to pass to the client.

# ct_timeout CMD...: runs CMD with the timeout. Once a command of the case has timed out (a
# runtime that hangs), the case's later commands are not run and give 124 at once, so that a
# hanging runtime costs one timeout per case.
ct_timeout() {
	[[ -e $CASE_DIR/timed-out ]] && return 124
	local start=$SECONDS rc
	timeout -k 5 "$RT_TIMEOUT" "$@"
	rc=$?
	if ((SECONDS - start >= RT_TIMEOUT - 1)); then
		echo "timed out after $RT_TIMEOUT s: $*" >&2
		: >"$CASE_DIR/timed-out"
	fi
	return "$rc"
}

# ct_cmd CMD...: runs CMD with stdin from /dev/null and the timeout; prints its stdout, then
# "[exit N]".
ct_cmd() {
	ct_timeout "$@" </dev/null
	echo "[exit $?]"
}

# ct_quiet CMD...: ct_cmd with CMD's stdout dropped (container ids and other random output).
ct_quiet() {
	ct_timeout "$@" </dev/null >/dev/null
	echo "[exit $?]"
}

# ct_pty CMD...: runs CMD on a 30x100 pseudo-terminal (ptydrive) and prints what CMD printed
# between the lines BEGIN and END, with each \r shown as the two characters \r.
ct_pty() {
	local tr=$CASE_DIR/pty
	printf 'capture out BEGIN END\nexit 0\n' >"$tr.script"
	ct_timeout "$DRIVE" -s 30x100 -T $((RT_TIMEOUT * 1000)) -o "$tr" \
		"$tr.script" -- "$@" </dev/null
	echo "[exit $?]"
	sed 's/\r/\\r/g' "$tr.out" 2>/dev/null
}

# Shell snippets run in the containers.
READY='echo ready >/tmp/ready'
WAIT_READY='while [ ! -e /tmp/ready ]; do sleep 0.1; done; cat /tmp/ready'
TERM_7='trap "exit 7" TERM'
LOOP='while :; do sleep 0.1; done'

# pm_run ARGS...: podman run with the runtime under test.
pm_run() {
	ct_cmd podman run --runtime "$RT" "$@"
}

# ctr_flags: sets CTR_FLAGS, the ctr run flags for the runtime under test (its state under
# RT_TMP).
ctr_flags() {
	CTR_FLAGS=(--runc-binary "$RT" --runc-root "$RT_TMP/runc-root")
}

# ctr_status ID WANT: waits (up to 20 s) until ctr task ls shows task ID with status WANT;
# prints "ID: STATUS" as last seen.
ctr_status() {
	local s i
	for ((i = 0; i < 200; i++)); do
		s=$(timeout 5 "${CTR[@]}" task ls 2>/dev/null | awk -v id="$1" '$1 == id { print $3 }')
		[[ $s == "$2" ]] && break
		sleep 0.1
	done
	echo "$1: ${s:-no task}"
}

# ctr_wait_task ID: waits (up to 20 s) until task ID exists.
ctr_wait_task() {
	local i
	for ((i = 0; i < 200; i++)); do
		timeout 5 "${CTR[@]}" task ls -q 2>/dev/null | grep -qx "$1" && return 0
		sleep 0.1
	done
	return 1
}

# ct_ctr_gc: kills and deletes every task and container in the test's namespace.
ct_ctr_gc() {
	local id
	for id in $(timeout "$RT_TIMEOUT" "${CTR[@]}" task ls -q 2>/dev/null); do
		timeout "$RT_TIMEOUT" "${CTR[@]}" task kill -a -s SIGKILL "$id" >/dev/null 2>&1 &&
			ctr_status "$id" STOPPED >/dev/null
		timeout "$RT_TIMEOUT" "${CTR[@]}" task delete -f "$id" >/dev/null 2>&1
	done
	for id in $(timeout "$RT_TIMEOUT" "${CTR[@]}" containers ls -q 2>/dev/null); do
		timeout "$RT_TIMEOUT" "${CTR[@]}" containers delete "$id" >/dev/null 2>&1
	done
}

# ---------------------------------------------------------------------------------------------
# The cases: case_CLIENT_NAME prints the transcript, expect_CLIENT_NAME the expected one.

case_podman_echo() { pm_run --rm "$IMAGE" echo hello; }
expect_podman_echo() { printf 'hello\n[exit 0]\n'; }

case_podman_pipeline() {
	pm_run --rm "$IMAGE" sh -c 'echo one two three | tr " " "\n" | sort -r | head -n 2'
}
expect_podman_pipeline() { printf 'two\nthree\n[exit 0]\n'; }

case_podman_exit() {
	pm_run --rm "$IMAGE" sh -c 'echo before; exit 3'
	pm_run --rm "$IMAGE" /bin/no-such-program
}
expect_podman_exit() { printf 'before\n[exit 3]\n[exit 127]\n'; }

case_podman_stdin() {
	printf 'abc\ndef\n' >"$CASE_DIR/in"
	ct_timeout podman run --runtime "$RT" --rm -i "$IMAGE" tr a-z A-Z <"$CASE_DIR/in"
	echo "[exit $?]"
}
expect_podman_stdin() { printf 'ABC\nDEF\n[exit 0]\n'; }

# -t: the runtime makes the container's terminal and sends its master to conmon over the console
# socket; podman sets the size from its own terminal.
case_podman_tty() {
	ct_pty podman run --runtime "$RT" --rm -t "$IMAGE" \
		sh -c 'echo BEGIN; tty; stty size; test -t 0 && echo stdin is a tty; echo END'
}
expect_podman_tty() { printf '[exit 0]\n\\r\n/dev/pts/0\\r\n30 100\\r\nstdin is a tty\\r\n'; }

# The container's configuration as the clients pass it: a read-only root, a tmpfs, read-only and
# read-write bind mounts, hostname, user, environment, working directory, rlimits (podman's from
# containers.conf), a memory limit (ctr has no --user, and sets no hostname and no RLIMIT_NPROC).
SHOW_CONFIG='echo "$FOO $PWD $(id -u):$(id -g)"; ulimit -n; cat /data/file
touch /data/x /etc/x 2>&1; echo written >/rw/out; echo tmp >/scratch/f && cat /scratch/f'
ct_dirs() {
	mkdir -p "$CASE_DIR/ro" "$CASE_DIR/rw"
	echo 'from the host' >"$CASE_DIR/ro/file"
	chmod 777 "$CASE_DIR/rw"
}

case_podman_config() {
	ct_dirs
	pm_run --rm --read-only --tmpfs /scratch --hostname box -e FOO=bar -w /tmp -u 65534:65534 \
		--memory 256m -v "$CASE_DIR/ro:/data:ro" -v "$CASE_DIR/rw:/rw" "$IMAGE" \
		sh -c "hostname; ulimit -u; $SHOW_CONFIG"
	cat "$CASE_DIR/rw/out"
}
# expect_config UID:GID: what SHOW_CONFIG prints in a container running as UID:GID, the status,
# then what it wrote to /rw/out.
expect_config() {
	printf 'bar /tmp %s\n1024\nfrom the host\n' "$1"
	printf 'touch: %s: Read-only file system\n' /data/x /etc/x
	printf 'tmp\n[exit 0]\nwritten\n'
}
expect_podman_config() {
	printf 'box\n4096\n'
	expect_config 65534:65534
}

case_podman_exec() {
	local c=runsc-c-clients-exec
	ct_quiet podman run --runtime "$RT" -d --name "$c" "$IMAGE" sh -c "$READY; exec sleep 1000"
	ct_cmd podman exec "$c" sh -c "$WAIT_READY"
	ct_cmd podman exec "$c" sh -c 'echo in exec; exit 5'
	ct_cmd podman exec -w /tmp -e FOO=bar "$c" sh -c 'echo "$PWD $FOO"'
	ct_cmd podman exec -u 65534:65534 "$c" id
	printf 'abc\n' >"$CASE_DIR/in"
	ct_timeout podman exec -i "$c" tr a-z A-Z <"$CASE_DIR/in"
	echo "[exit $?]"
	ct_pty podman exec -t "$c" sh -c 'echo BEGIN; tty; echo END'
	ct_cmd podman inspect -f '{{.State.Status}}' "$c"
	ct_quiet podman rm -f -t 0 "$c"
}
expect_podman_exec() {
	cat <<'EOF'
[exit 0]
ready
[exit 0]
in exec
[exit 5]
/tmp bar
[exit 0]
uid=65534(nobody) gid=65534(nogroup)
[exit 0]
ABC
[exit 0]
[exit 0]
\r
/dev/pts/0\r
running
[exit 0]
[exit 0]
EOF
}

# podman stop: SIGTERM (kill ID 15), then SIGKILL (kill ID 9) after the timeout.
case_podman_stop() {
	local c=runsc-c-clients-stop
	ct_quiet podman run --runtime "$RT" -d --name "$c-term" "$IMAGE" \
		sh -c "echo started; $TERM_7; $READY; $LOOP"
	ct_cmd podman exec "$c-term" sh -c "$WAIT_READY"
	ct_cmd podman stop -t 20 "$c-term"
	ct_cmd podman inspect -f '{{.State.Status}} {{.State.ExitCode}}' "$c-term"
	ct_cmd podman logs "$c-term"
	ct_quiet podman run --runtime "$RT" -d --name "$c-kill" "$IMAGE" sleep 1000
	ct_cmd podman stop -t 1 "$c-kill"
	ct_cmd podman inspect -f '{{.State.Status}} {{.State.ExitCode}}' "$c-kill"
	# A stopped container starts again.
	ct_cmd podman start "$c-term"
	ct_cmd podman exec "$c-term" sh -c "$WAIT_READY"
	ct_cmd podman stop -t 20 "$c-term"
	ct_cmd podman logs "$c-term"
	ct_quiet podman rm "$c-term" "$c-kill"
}
expect_podman_stop() {
	cat <<'EOF'
[exit 0]
ready
[exit 0]
runsc-c-clients-stop-term
[exit 0]
exited 7
[exit 0]
started
[exit 0]
[exit 0]
runsc-c-clients-stop-kill
[exit 0]
exited 137
[exit 0]
runsc-c-clients-stop-term
[exit 0]
ready
[exit 0]
runsc-c-clients-stop-term
[exit 0]
started
started
[exit 0]
[exit 0]
EOF
}

# podman rm: an exited container, a running one (-f), one never started; then none is left.
case_podman_rm() {
	local c=runsc-c-clients-rm
	pm_run --name "$c-exited" "$IMAGE" sh -c 'exit 4'
	ct_cmd podman rm "$c-exited"
	ct_quiet podman run --runtime "$RT" -d --name "$c-running" "$IMAGE" sleep 1000
	ct_cmd podman rm "$c-running"
	ct_cmd podman rm -f -t 0 "$c-running"
	ct_quiet podman create --runtime "$RT" --name "$c-created" "$IMAGE" true
	ct_cmd podman rm "$c-created"
	ct_cmd podman ps -a --format '{{.Names}}' --filter "name=$c"
	ct_cmd podman rm "$c-exited"
}
expect_podman_rm() {
	cat <<'EOF'
[exit 4]
runsc-c-clients-rm-exited
[exit 0]
[exit 0]
[exit 2]
runsc-c-clients-rm-running
[exit 0]
[exit 0]
runsc-c-clients-rm-created
[exit 0]
[exit 0]
[exit 1]
EOF
}

case_ctr_echo() {
	ctr_flags
	ct_cmd "${CTR[@]}" run --rm "${CTR_FLAGS[@]}" "$IMAGE" clients-echo echo hello
}
expect_ctr_echo() { printf 'hello\n[exit 0]\n'; }

case_ctr_pipeline() {
	ctr_flags
	ct_cmd "${CTR[@]}" run --rm "${CTR_FLAGS[@]}" "$IMAGE" clients-pipeline \
		sh -c 'echo one two three | tr " " "\n" | sort -r | head -n 2'
}
expect_ctr_pipeline() { printf 'two\nthree\n[exit 0]\n'; }

case_ctr_exit() {
	ctr_flags
	ct_cmd "${CTR[@]}" run --rm "${CTR_FLAGS[@]}" "$IMAGE" clients-exit sh -c 'echo before; exit 3'
	ct_cmd "${CTR[@]}" run --rm "${CTR_FLAGS[@]}" --cwd /tmp --env FOO=bar "$IMAGE" clients-env \
		sh -c 'echo "$PWD $FOO"'
}
expect_ctr_exit() { printf 'before\n[exit 3]\n/tmp bar\n[exit 0]\n'; }

case_ctr_config() {
	ct_dirs
	ctr_flags
	ct_cmd "${CTR[@]}" run --rm "${CTR_FLAGS[@]}" --read-only --env FOO=bar --cwd /tmp \
		--memory-limit $((256 << 20)) \
		--mount "type=tmpfs,src=tmpfs,dst=/scratch,options=mode=1777" \
		--mount "type=bind,src=$CASE_DIR/ro,dst=/data,options=rbind:ro" \
		--mount "type=bind,src=$CASE_DIR/rw,dst=/rw,options=rbind:rw" \
		"$IMAGE" clients-config sh -c "$SHOW_CONFIG"
	cat "$CASE_DIR/rw/out"
}
expect_ctr_config() { expect_config 0:0; }

# ctr -t: ctr resizes the terminal only after the task starts, so the size is not checked.
case_ctr_tty() {
	ctr_flags
	ct_pty "${CTR[@]}" run --rm -t "${CTR_FLAGS[@]}" "$IMAGE" clients-tty \
		sh -c 'echo BEGIN; tty; test -t 0 && echo stdin is a tty; echo END'
}
expect_ctr_tty() { printf '[exit 0]\n\\r\\r\n/dev/pts/0\\r\\r\nstdin is a tty\\r\\r\n'; }

# ctr run in the background; task exec, ps, pause, resume, kill (SIGTERM): ctr run gives the
# init's status and --rm removes the container.
case_ctr_exec() {
	local id=clients-exec pid
	ctr_flags
	ct_timeout "${CTR[@]}" run --rm "${CTR_FLAGS[@]}" "$IMAGE" "$id" \
		sh -c "echo started; $TERM_7; $READY; $LOOP" </dev/null >"$CASE_DIR/run.out" &
	pid=$!
	if ! ctr_wait_task "$id"; then
		wait "$pid"
		echo "[ctr run exit $?, no task]"
		return
	fi
	ct_cmd "${CTR[@]}" task exec --exec-id e1 "$id" sh -c "$WAIT_READY"
	ct_cmd "${CTR[@]}" task exec --exec-id e2 "$id" sh -c 'echo in exec; exit 5'
	ct_cmd "${CTR[@]}" task exec --exec-id e3 --cwd /tmp --user 65534 "$id" \
		sh -c 'echo "$PWD $(id -u)"'
	ct_pty "${CTR[@]}" task exec -t --exec-id e4 "$id" sh -c 'echo BEGIN; tty; echo END'
	"${CTR[@]}" task ps "$id" >"$CASE_DIR/ps"
	echo "[exit $?]"
	echo "ps: $(head -n 1 "$CASE_DIR/ps" | tr -s ' ')"
	# The pids are the runtime's to choose (`ps --format json`); at least the init is listed.
	echo "ps lists a process: $( (($(wc -l <"$CASE_DIR/ps") > 1)) && echo yes || echo no)"
	ct_cmd "${CTR[@]}" task pause "$id"
	ctr_status "$id" PAUSED
	ct_cmd "${CTR[@]}" task resume "$id"
	ctr_status "$id" RUNNING
	ct_cmd "${CTR[@]}" task kill "$id"
	wait "$pid"
	echo "[ctr run exit $?]"
	cat "$CASE_DIR/run.out"
	ct_cmd "${CTR[@]}" containers ls -q
}
expect_ctr_exec() {
	cat <<'EOF'
ready
[exit 0]
in exec
[exit 5]
/tmp 65534
[exit 0]
[exit 0]
\r\r
/dev/pts/0\r\r
[exit 0]
ps: PID INFO
ps lists a process: yes
[exit 0]
clients-exec: PAUSED
[exit 0]
clients-exec: RUNNING
[exit 0]
[ctr run exit 7]
started
[exit 0]
EOF
}

# ctr run -d, task kill -s SIGKILL, task delete (which reports the status), containers delete.
case_ctr_kill() {
	local id=clients-kill
	ctr_flags
	ct_cmd "${CTR[@]}" run -d "${CTR_FLAGS[@]}" "$IMAGE" "$id" sleep 1000
	ctr_status "$id" RUNNING
	ct_cmd "${CTR[@]}" task kill -s SIGKILL "$id"
	ctr_status "$id" STOPPED
	"${CTR[@]}" task delete "$id" </dev/null 2>&1 >/dev/null |
		sed -n 's/.*\(exit with non-zero exit code [0-9]*\).*/\1/p'
	ct_cmd "${CTR[@]}" containers delete "$id"
	ct_cmd "${CTR[@]}" task ls -q
}
expect_ctr_kill() {
	cat <<'EOF'
[exit 0]
clients-kill: RUNNING
[exit 0]
clients-kill: STOPPED
exit with non-zero exit code 137
[exit 0]
[exit 0]
EOF
}

CASES=(podman/echo podman/pipeline podman/exit podman/stdin podman/tty podman/config podman/exec
	podman/stop podman/rm ctr/echo ctr/pipeline ctr/exit ctr/config ctr/tty ctr/exec ctr/kill)

# ---------------------------------------------------------------------------------------------
# The runner.

# ct_run_case NAME LABEL: runs case NAME with the runtime wrapper of LABEL; the transcript goes
# to $RT_TMP/LABEL/NAME.out, its stderr to .err and the runtime calls it made to .calls.
ct_run_case() {
	local name=$1 label=$2 fn=${1//\//_}
	local base=$RT_TMP/$label/${name//\//-} before
	mkdir -p "$base.d"
	before=$(wc -l <"$RT_TMP/$label/calls")
	(
		RT=$RT_TMP/$label/runtime
		CASE_DIR=$base.d
		"case_$fn"
	) >"$base.out" 2>"$base.err"
	tail -n +$((before + 1)) "$RT_TMP/$label/calls" >"$base.calls"
	[[ -e $base.d/timed-out ]] && HUNG[$label/${name%%/*}]=$((${HUNG[$label/${name%%/*}]-0} + 1))
	# Whatever the case left (a failure midway), so that the next run starts clean.
	case $name in
	podman/*) timeout "$RT_TIMEOUT" podman rm -af -t 0 >/dev/null 2>&1 ;;
	ctr/*) ct_ctr_gc ;;
	esac
}

# A runtime that timed out in HUNG_MAX cases of a client is not given the client's other cases
# (each would cost a timeout or more): they fail at once. HUNG[LABEL/CLIENT] counts them.
declare -A HUNG=()
HUNG_MAX=2

# ct_case NAME: one case, with the reference first when there is one; records the verdict.
ct_case() {
	local name=$1 client=${1%%/*} fn=${1//\//_}
	rt_selected "$name" || return 0
	if [[ -n ${SKIP[$client]-} ]]; then
		rt_result "$name" skip "${SKIP[$client]}"
		return
	fi
	if [[ -n ${SETUP_FAILED[$client]-} ]]; then
		rt_result "$name" fail "set-up: ${SETUP_FAILED[$client]}"
		return
	fi
	if [[ ! -x $DRIVE ]] && [[ $name == */tty || $name == */exec ]]; then
		rt_result "$name" fail "$DRIVE is missing (make $DRIVE)"
		return
	fi
	local label
	for label in ref rt; do
		if ((${HUNG[$label/$client]-0} >= HUNG_MAX)); then
			rt_result "$name" fail "not run: $label ($([[ $label == ref ]] && echo "$REFERENCE" ||
				echo "$RUNTIME")) timed out in $HUNG_MAX $client cases already"
			return
		fi
	done
	local want=$RT_TMP/expect-${name//\//-} base msgs=()
	"expect_$fn" >"$want"
	rt_log "----- clients/$name"
	if ((CLIENTS_REFERENCE)); then
		ct_run_case "$name" ref
		base=$RT_TMP/ref/${name//\//-}
		if ! cmp -s "$want" "$base.out"; then
			msgs+=("runc (the reference) does not give the expected transcript: the test or the"
				"host is broken (--- expected, +++ runc):"
				"$(diff -u "$want" "$base.out" | tail -n +3)"
				"runc's stderr (tail):" "$(rt_tail "$base.err" 10)")
			rt_result "$name" fail "${msgs[@]}"
			return
		fi
	fi
	ct_run_case "$name" rt
	base=$RT_TMP/rt/${name//\//-}
	if cmp -s "$want" "$base.out"; then
		rt_result "$name" pass
		((RT_VERBOSE)) && sed 's/^/      | /' "$base.out"
		return
	fi
	if ((CLIENTS_REFERENCE)); then
		msgs+=("transcript differs from runc's (--- runc, +++ $RUNTIME):"
			"$(diff -u "$RT_TMP/ref/${name//\//-}.out" "$base.out" | tail -n +3)")
	else
		msgs+=("transcript differs (--- expected, +++ $RUNTIME):"
			"$(diff -u "$want" "$base.out" | tail -n +3)")
	fi
	msgs+=("stderr (tail):" "$(rt_tail "$base.err" 15)"
		"runtime calls (tail):" "$(rt_tail "$base.calls" 10 | cut -c1-300)")
	rt_result "$name" fail "${msgs[@]}"
}

echo "clients: runtime $RUNTIME${RUNTIME_FLAGS:+ $RUNTIME_FLAGS}$( ((CLIENTS_REFERENCE)) && echo ", compared with $REFERENCE")"
((CLIENTS_REFERENCE)) && ct_wrapper ref "$REFERENCE"
read -ra rt_flags <<<"${RUNTIME_FLAGS:-}"
ct_wrapper rt "$RUNTIME" "${rt_flags[@]}"
for c in "${CASES[@]}"; do
	ct_case "$c"
done

if [[ -n ${CLIENTS_RECORD:-} ]]; then
	mkdir -p "$CLIENTS_RECORD"
	cp -r "$RT_TMP/rt/." "$CLIENTS_RECORD/"
	echo "clients: runtime calls and configs kept in $CLIENTS_RECORD"
fi
rt_finish
