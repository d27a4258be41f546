#!/bin/bash
# run.sh: security checks of the sandbox boundary (host untouched, environment and fds, the Sentry's
# host calls, its seccomp allowlist and confinement, exec failures).
#   tests/security/run.sh [-v] [FILTER...]     (build first: make all progs)
# See tests/progs/lib.sh for RUNSC, RUNSC_DO_FLAGS and RT_TIMEOUT.
# shellcheck source=tests/progs/lib.sh
source "$(dirname "$0")/../progs/lib.sh"
rt_init security "$@"

P=build/tests/progs
R="$$-$RANDOM$RANDOM"
# Host scratch directory the sandbox can see: under the repo, not /tmp (the sandbox's /tmp is its own).
HOSTDIR="$RT_ROOT/build/tests/security-tmp/$R"
mkdir -p "$HOSTDIR"
trap 'rm -rf "$RT_TMP" "$HOSTDIR"; rmdir "$RT_ROOT/build/tests/security-tmp" 2>/dev/null' EXIT

# sb OUT ERR IN CMD...: runs CMD in the sandbox; sets RT_SB and RT_STATUS.
sb() {
	local out=$1 err=$2 in=$3
	shift 3
	rt_sandbox_cmd "$@"
	rt_log "      \$ ${RT_SB[*]}"
	rt_exec "$out" "$err" "$in" "${RT_SB[@]}"
}

# need_progs NAME PROG...: records a failure and returns 1 when a test program is not built.
need_progs() {
	local name=$1 p
	shift
	for p in "$@"; do
		if [[ ! -x $P/$p ]]; then
			rt_result "$name" fail "$P/$p is not built (run: make progs)"
			return 1
		fi
	done
}

# sb_failure_detail D STATUS: the lines that explain a sandboxed run that went wrong.
sb_failure_detail() {
	printf '%s\n' "command: ${RT_SB[*]}" "status $2; stdout (tail):" "$(rt_tail "$1.out" 10)" \
		"stderr (tail):" "$(rt_tail "$1.err" 15)"
}

sha() { sha256sum "$1" | cut -d' ' -f1; }

# ---- (a) writes inside the sandbox leave the host untouched -------------------------------------

test_host_untouched() {
	local name=host-untouched
	rt_selected $name || return 0
	need_progs $name rw_files || return 0
	local d="$RT_TMP/$name" msgs=() st
	local tmp_new=/tmp/runsc-c-sec-$R etc_new=/etc/runsc-c-sec-$R
	local tmp_old=/tmp/runsc-c-sec-old-$R etc_old=/etc/runsc-c-sec-old-$R
	echo "host original $R" >"$tmp_old"
	echo "host original $R" >"$etc_old"
	local want_tmp want_etc
	want_tmp="$(sha "$tmp_old") $(stat -c '%s %Y %i' "$tmp_old")"
	want_etc="$(sha "$etc_old") $(stat -c '%s %Y %i' "$etc_old")"

	# New files in /tmp and /etc (acceptance 4), kept until the sandbox exits.
	sb "$d-new.out" "$d-new.err" /dev/null $P/rw_files "$tmp_new" "$etc_new" --keep
	st=$RT_STATUS
	if [[ $st != 0 ]] || ! grep -qx 'rw_files: done' "$d-new.out"; then
		msgs+=("the writer failed in the sandbox" "$(sb_failure_detail "$d-new" "$st")")
	fi
	[[ -e $tmp_new ]] && msgs+=("host $tmp_new exists after the sandbox wrote it")
	[[ -e $etc_new ]] && msgs+=("host $etc_new exists after the sandbox wrote it")

	# Files that exist on the host: overwritten in the sandbox, unchanged on the host.
	sb "$d-old.out" "$d-old.err" /dev/null $P/rw_files "$tmp_old" "$etc_old" --keep
	st=$RT_STATUS
	if [[ $st != 0 ]] || ! grep -qx 'rw_files: done' "$d-old.out"; then
		msgs+=("the writer failed on existing files" "$(sb_failure_detail "$d-old" "$st")")
	fi
	[[ "$(sha "$tmp_old") $(stat -c '%s %Y %i' "$tmp_old")" == "$want_tmp" ]] ||
		msgs+=("host $tmp_old changed")
	[[ "$(sha "$etc_old") $(stat -c '%s %Y %i' "$etc_old")" == "$want_etc" ]] ||
		msgs+=("host $etc_old changed")

	rm -f "$tmp_new" "$etc_new" "$tmp_old" "$etc_old"
	if ((${#msgs[@]})); then rt_result $name fail "${msgs[@]}"; else rt_result $name pass; fi
}

# Overwriting and truncating host files the sandbox can see (copy-up into the overlay).
test_host_modify() {
	local name=host-modify
	rt_selected $name || return 0
	need_progs $name rw_files || return 0
	local d="$RT_TMP/$name" msgs=() st f want
	local victims=("$HOSTDIR/victim" "/etc/runsc-c-sec-victim-$R")
	for f in "${victims[@]}"; do
		seq 1 500 >"$f"
		want="$(sha "$f") $(stat -c '%s %Y' "$f")"
		sb "$d.out" "$d.err" /dev/null $P/rw_files --modify "$f"
		st=$RT_STATUS
		if [[ $st != 0 ]] || ! grep -q '^modify: overwrote and truncated' "$d.out"; then
			msgs+=("modifying $f failed in the sandbox" "$(sb_failure_detail "$d" "$st")")
		fi
		[[ "$(sha "$f") $(stat -c '%s %Y' "$f")" == "$want" ]] || msgs+=("host $f changed")
		rm -f "$f"
	done
	if ((${#msgs[@]})); then rt_result $name fail "${msgs[@]}"; else rt_result $name pass; fi
}

# ---- (b) nothing of the host's environment or fds gets in ---------------------------------------

test_env() {
	local name=env-minimal
	rt_selected $name || return 0
	local d="$RT_TMP/$name" msgs=() st
	local secret="runsc-c-secret-$R"
	RT_SB=("${RT_RUNSC_CMD[@]}" "do" "${RT_DO_FLAGS[@]}" --env FOO=bar --env MULTI=a=b=c -- /bin/busybox env)
	SECRET_TOKEN=$secret AWS_SECRET_ACCESS_KEY=$secret rt_exec "$d.out" "$d.err" /dev/null "${RT_SB[@]}"
	st=$RT_STATUS
	if [[ $st != 0 ]]; then
		msgs+=("env failed in the sandbox" "$(sb_failure_detail "$d" "$st")")
	else
		grep -q -- "$secret" "$d.out" && msgs+=("the host's secret value is visible in the sandbox")
		grep -q '^SECRET_TOKEN=\|^AWS_SECRET' "$d.out" && msgs+=("SECRET_TOKEN is visible in the sandbox")
		grep -qx 'FOO=bar' "$d.out" || msgs+=("--env FOO=bar is missing")
		grep -qx 'MULTI=a=b=c' "$d.out" || msgs+=("--env MULTI=a=b=c is missing")
		local extra
		extra=$(cut -d= -f1 "$d.out" | grep -vxE 'PATH|HOME|TERM|LANG|FOO|MULTI' | tr '\n' ' ')
		[[ -n $extra ]] && msgs+=("variables beyond PATH HOME TERM LANG and --env: $extra")
		((${#msgs[@]})) && msgs+=("sandbox env:" "$(cat "$d.out")")
	fi
	if ((${#msgs[@]})); then rt_result $name fail "${msgs[@]}"; else rt_result $name pass; fi
}

test_fds() {
	local name=fds-not-inherited
	rt_selected $name || return 0
	need_progs $name fd_probe || return 0
	local d="$RT_TMP/$name" st
	# The host's fds 5, 7 and 200 are open; in the sandbox only 0, 1 and 2 may be.
	sb "$d.out" "$d.err" /dev/null $P/fd_probe 0 1 2 3 4 5 6 7 8 9 10 200 255 5</etc/passwd 7</etc/passwd 200</etc/passwd
	st=$RT_STATUS
	local want
	want=$(printf 'fd %s: open\n' 0 1 2; printf 'fd %s: closed\n' 3 4 5 6 7 8 9 10 200 255)
	if [[ $st == 0 && "$(cat "$d.out")" == "$want" ]]; then
		rt_result $name pass
	else
		rt_result $name fail "want fds 0-2 open and no others" "$(sb_failure_detail "$d" "$st")"
	fi
}

# ---- (c) the Sentry opens no host path after boot; it is confined -------------------------------

# descendants PID: every descendant of PID, parents before children.
descendants() {
	local -A kids=()
	local f s rest ppid pid
	for f in /proc/[0-9]*/stat; do
		read -r s 2>/dev/null <"$f" || continue
		pid=${f#/proc/}
		pid=${pid%/stat}
		rest=${s##*) }
		read -r _ ppid _ <<<"$rest"
		kids[$ppid]+=" $pid"
	done
	local queue=("$1") p k
	while ((${#queue[@]})); do
		p=${queue[0]}
		queue=("${queue[@]:1}")
		for k in ${kids[$p]-}; do
			echo "$k"
			queue+=("$k")
		done
	done
}

# find_role PID ROLE: the first descendant of PID whose command line has a ROLE argument.
find_role() {
	local p
	for p in $(descendants "$1"); do
		if tr '\0' '\n' <"/proc/$p/cmdline" 2>/dev/null | grep -qx "$2"; then
			echo "$p"
			return 0
		fi
	done
	return 1
}

# find_sentry PID: the first descendant of PID whose command line has a "boot" argument.
find_sentry() { find_role "$1" boot; }

status_field() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status" 2>/dev/null; }

test_sentry_trace() {
	local name=sentry-no-path-calls
	rt_selected $name || return 0
	need_progs $name late_reader || return 0
	if ! command -v strace >/dev/null; then
		rt_result $name fail "strace is not installed (apt-get install strace)"
		return 0
	fi
	local d="$RT_TMP/$name" msgs=() log="$RT_TMP/$name.strace"
	local secs=3
	# The program sleeps $secs s before touching files: time to find the Sentry and attach.
	rt_sandbox_cmd $P/late_reader $secs
	rt_log "      \$ ${RT_SB[*]} &"
	timeout -k 5 "$RT_TIMEOUT" "${RT_SB[@]}" </dev/null >"$d.out" 2>"$d.err" &
	local bg=$! sentry="" i
	for ((i = 0; i < 100; i++)); do
		grep -q '^sleeping' "$d.out" 2>/dev/null && sentry=$(find_sentry $bg) && break
		kill -0 $bg 2>/dev/null || break
		sleep 0.05
	done
	if [[ -z $sentry ]]; then
		wait $bg
		local bst=$?
		rt_result $name fail "no Sentry (a descendant with a 'boot' argument) found while the program ran" \
			"$(sb_failure_detail "$d" "$bst")"
		RT_CONFINE_SKIP="no Sentry found"
		return 0
	fi
	local tids=() t
	for t in "/proc/$sentry/task/"*; do tids+=(-p "${t##*/}"); done
	strace -qq -e trace=%file,sendmsg,recvmsg,sendto,recvfrom,sendmmsg,recvmmsg \
		-o "$log" "${tids[@]}" 2>"$log.err" &
	local tracer=$!
	# Attached when every thread shows a tracer.
	local attached=0
	for ((i = 0; i < 60; i++)); do
		attached=1
		for t in "/proc/$sentry/task/"*; do
			[[ $(status_field "$sentry/task/${t##*/}" TracerPid) != 0 ]] || attached=0
		done
		((attached)) && break
		sleep 0.05
	done
	# While it runs: confinement of the Sentry (checked here because the process is alive now).
	check_confinement "$sentry" "$bg"
	wait $bg
	local st=$?
	timeout 10 tail --pid=$tracer -f /dev/null 2>/dev/null
	kill $tracer 2>/dev/null
	wait $tracer 2>/dev/null

	((attached)) || msgs+=("strace did not attach to every Sentry thread in time" "$(cat "$log.err")")
	local native
	native=$(cd / && timeout "$RT_TIMEOUT" "$RT_ROOT/$P/late_reader" 0 </dev/null 2>/dev/null | sed 1d)
	if [[ $st != 0 || "$(sed 1d "$d.out")" != "$native" ]]; then
		msgs+=("late_reader did not run as natively" "$(sb_failure_detail "$d" "$st")")
	fi
	# Every traced call that is not a socket message is a path call, except fd-relative
	# stats with an empty path.
	local calls bad
	calls=$(sed -E 's/^\[pid +[0-9]+\] //; s/^[0-9]+ +//; s/^<\.\.\. ([a-z0-9_]+) resumed>/\1(/' "$log" | grep -E '^[a-z0-9_]+\(' || true)
	bad=$(grep -vE '^(sendmsg|recvmsg|sendto|recvfrom|sendmmsg|recvmmsg)\(' <<<"$calls" |
		grep -vE '^(newfstatat|statx)\([0-9]+, "", .*AT_EMPTY_PATH' | grep . || true)
	[[ -n $bad ]] && msgs+=("the Sentry made path-based host calls after boot (count, call):" \
		"$(sort <<<"$bad" | uniq -c | sort -rn | head -n 20)")
	grep -qE '^(sendmsg|recvmsg|sendto|recvfrom|sendmmsg|recvmmsg)\(' <<<"$calls" ||
		msgs+=("no socket message calls traced: strace did not see the Sentry talk to the gofer" \
			"log: $(head -c 2000 "$log")")
	rt_log "      traced $(wc -l <<<"$calls") calls of the Sentry (pid $sentry, $((${#tids[@]} / 2)) threads)"
	if ((${#msgs[@]})); then rt_result $name fail "${msgs[@]}"; else rt_result $name pass; fi
}

# vdso-untrapped: with a vDSO (a host TSC that is constant_tsc and nonstop_tsc), the time calls
# glibc makes through it never trap: --strace shows only the CPU-time clock, which the vDSO
# leaves to the Sentry. Without one, every call traps (the fallback).
test_vdso_untrapped() {
	local name=vdso-untrapped
	rt_selected $name || return 0
	need_progs $name vdso_calls || return 0
	local d="$RT_TMP/$name" st fast cpu want=0
	grep -m1 '^flags' /proc/cpuinfo | grep -qw constant_tsc &&
		grep -m1 '^flags' /proc/cpuinfo | grep -qw nonstop_tsc || want=4000
	RT_SB=("${RT_RUNSC_CMD[@]}" "do" "${RT_DO_FLAGS[@]}" --strace -- $P/vdso_calls)
	rt_log "      \$ ${RT_SB[*]}"
	rt_exec "$d.out" "$d.err" /dev/null "${RT_SB[@]}"
	st=$RT_STATUS
	fast=$(grep -cE '(clock_gettime\(CLOCK_(MONOTONIC|REALTIME),|gettimeofday\(|[] ]time\()' "$d.err")
	cpu=$(grep -c 'clock_gettime(CLOCK_PROCESS_CPUTIME_ID' "$d.err")
	if [[ $st == 0 && $fast == "$want" && $cpu == 1 ]]; then
		rt_result $name pass
	else
		rt_result $name fail "want $want trapped MONOTONIC/REALTIME/gettimeofday/time calls and 1 CPU-time one; got $fast and $cpu" \
			"$(sb_failure_detail "$d" "$st")"
	fi
}

RT_CONFINE_SKIP=""
RT_CONFINE=()

# check_confinement SENTRY CLI_PID: records the Sentry's confinement facts for the tests below.
check_confinement() {
	local s=$1 ns mine theirs
	RT_CONFINE=()
	[[ $(status_field "$s" Seccomp) == 2 ]] || RT_CONFINE+=("seccomp: Seccomp is '$(status_field "$s" Seccomp)', want 2 (filter)")
	[[ $(status_field "$s" NoNewPrivs) == 1 ]] || RT_CONFINE+=("seccomp: NoNewPrivs is not 1")
	local c
	for c in CapEff CapPrm CapAmb; do
		[[ $(status_field "$s" $c) =~ ^0+$ ]] || RT_CONFINE+=("caps: $c is $(status_field "$s" $c)")
	done
	for ns in user mnt pid net ipc uts; do
		mine=$(readlink /proc/self/ns/$ns)
		theirs=$(readlink "/proc/$s/ns/$ns" 2>/dev/null)
		[[ -n $theirs && $theirs != "$mine" ]] || RT_CONFINE+=("namespaces: the Sentry shares the host's $ns namespace ($theirs)")
	done
	local f
	for f in etc/passwd usr/bin bin/busybox; do
		[[ -e /proc/$s/root/$f ]] && RT_CONFINE+=("root: the Sentry's root still shows /$f")
	done
	# The gofer: its own mount namespace, and the Sentry's empty network namespace (joined,
	# not the host's), ipc and uts of its own.
	local g
	if ! g=$(find_role "$2" gofer); then
		RT_CONFINE+=("gofer: no gofer (a descendant with a 'gofer' argument) found")
		return 0
	fi
	for ns in mnt net ipc uts; do
		mine=$(readlink /proc/self/ns/$ns)
		theirs=$(readlink "/proc/$g/ns/$ns" 2>/dev/null)
		[[ -n $theirs && $theirs != "$mine" ]] || RT_CONFINE+=("gofer: the gofer shares the host's $ns namespace ($theirs)")
	done
	[[ $(readlink "/proc/$g/ns/net") == "$(readlink "/proc/$s/ns/net")" ]] ||
		RT_CONFINE+=("gofer: the gofer is not in the Sentry's network namespace")
	[[ $(readlink "/proc/$g/ns/mnt") != "$(readlink "/proc/$s/ns/mnt")" ]] ||
		RT_CONFINE+=("gofer: the gofer shares the Sentry's mount namespace")
	[[ $(status_field "$g" Seccomp) == 2 ]] || RT_CONFINE+=("gofer: Seccomp is '$(status_field "$g" Seccomp)', want 2 (filter)")
}

test_confinement() {
	local n topic
	for topic in seccomp caps namespaces root gofer; do
		n=sentry-confined-$topic
		[[ $topic == gofer ]] && n=gofer-confined
		rt_selected $n || continue
		if [[ -n $RT_CONFINE_SKIP ]]; then
			rt_result $n fail "$RT_CONFINE_SKIP"
			continue
		fi
		local m=() line
		for line in "${RT_CONFINE[@]}"; do
			[[ $line == "$topic: "* ]] && m+=("${line#*: }")
		done
		if ((${#m[@]})); then rt_result $n fail "${m[@]}"; else rt_result $n pass; fi
	done
}

# ---- (d) the Sentry's seccomp allowlist has no path-based calls ----------------------------------

test_seccomp_list() {
	local name=seccomp-allowlist
	rt_selected $name || return 0
	local d="$RT_TMP/$name" st msgs=()
	RT_SB=("${RT_RUNSC_CMD[@]}" debug seccomp)
	rt_exec "$d.out" "$d.err" /dev/null "${RT_SB[@]}"
	st=$RT_STATUS
	if [[ $st != 0 ]]; then
		rt_result $name fail "'runsc-c debug seccomp' failed" "$(sb_failure_detail "$d" "$st")"
		return 0
	fi
	local words forbidden hits known=0 w
	# the syscall names: the first word of each indented line (the rest is the reason)
	words=$(grep -v '^[[:space:]]*#' "$d.out" | awk '/^[[:space:]]/ {print $1}' | sort -u)
	for w in read write close mmap munmap futex exit_group recvmsg sendmsg ptrace wait4 waitid rt_sigreturn; do
		grep -qx "$w" <<<"$words" && known=$((known + 1))
	done
	((known >= 4)) || msgs+=("the listing names only $known of the usual Sentry syscalls; is it a list?" "$(head -n 20 "$d.out")")
	forbidden='open|openat|openat2|creat|execve|execveat|mount|stat|lstat|newfstatat|statx|chdir|fchdir|chroot|pivot_root|mkdir|unlink|unlinkat|rename|symlink|link|access|faccessat|faccessat2|readlink|readlinkat|truncate|chmod|chown'
	hits=$(grep -xE "$forbidden" <<<"$words" | tr '\n' ' ')
	[[ -n $hits ]] && msgs+=("path-based calls allowed: $hits" \
		"$(grep -v '^[[:space:]]*#' "$d.out" | grep -E "^[[:space:]]+($forbidden)[[:space:]]" | head -n 10)")
	# docs/architecture.md must state the count the binary installs
	local count
	count=$("${RT_RUNSC_CMD[@]}" debug seccomp --count 2>/dev/null)
	grep -q "\*\*$count syscalls\*\*" docs/architecture.md ||
		msgs+=("docs/architecture.md does not state the allowlist's count ($count syscalls)")
	rt_log "      $(grep -c . "$d.out") lines listed"
	if ((${#msgs[@]})); then rt_result $name fail "${msgs[@]}"; else rt_result $name pass; fi
}

# ---- (d2) bind mounts: nothing gets out of a read-write --volume ----------------------------------

# mount_escape tries "..", symlinks pointing out, rename/link out of the mount (EXDEV) and a
# symlink swapped in between walk steps, from inside a read-write bind mount of src; nothing may
# appear on the host outside src, and the directory next to it stays as it was.
test_mount_escape() {
	local name=mount-escape
	rt_selected $name || return 0
	need_progs $name mount_escape || return 0
	local d="$RT_TMP/$name" msgs=() st before after
	local top="$HOSTDIR/mount" src="$HOSTDIR/mount/src" out="$HOSTDIR/mount/out"
	mkdir -p "$src" "$out"
	echo "next to the mount" >"$out/keep"
	before=$(cd "$top" && find . -path ./src -prune -o -printf '%p %s %m %T@\n' | sort)
	RT_SB=("${RT_RUNSC_CMD[@]}" do "${RT_DO_FLAGS[@]}" --volume "$src:/data" -- \
		$P/mount_escape attack /data "$out")
	rt_log "      \$ ${RT_SB[*]}"
	rt_exec "$d.out" "$d.err" /dev/null "${RT_SB[@]}"
	st=$RT_STATUS
	if [[ $st != 0 ]] || [[ $(tail -n 1 "$d.out") != ok ]] || [[ $(grep -c ': EXDEV$' "$d.out") != 4 ]]; then
		msgs+=("mount_escape failed in the sandbox" "$(sb_failure_detail "$d" "$st")")
	fi
	after=$(cd "$top" && find . -path ./src -prune -o -printf '%p %s %m %T@\n' | sort)
	[[ $before == "$after" ]] ||
		msgs+=("the host outside the bind mount changed:" "$(diff <(echo "$before") <(echo "$after"))")
	[[ -f $src/victim ]] || msgs+=("the file that rename/link tried to move out is gone from src")
	for f in dotdot abs-link rel-link renamed linked swapped; do
		[[ -e $out/$f || -e $HOSTDIR/$f || -e /$f ]] && msgs+=("host: $f appeared outside the mount")
	done
	rm -rf "$top"
	if ((${#msgs[@]})); then rt_result $name fail "${msgs[@]}"; else rt_result $name pass; fi
}

# ---- (e) exec failures: 127 for not found, 126 for not executable ------------------------------

# exec_case NAME WANT_STATUS STDERR_REGEX PATH: the sandbox refuses PATH as a shell would.
exec_case() {
	local name=exec-$1 want=$2 re=$3 path=$4
	rt_selected "$name" || return 0
	local d="$RT_TMP/$name" st msgs=()
	sb "$d.out" "$d.err" /dev/null "$path"
	st=$RT_STATUS
	[[ $st == "$want" ]] || msgs+=("status $st, want $want")
	[[ -s $d.out ]] && msgs+=("unexpected stdout: $(head -c 300 "$d.out")")
	if [[ ! -s $d.err ]]; then
		msgs+=("no message on stderr")
	elif [[ -n $re ]] && ! grep -qiE "$re" "$d.err"; then
		msgs+=("stderr does not match /$re/")
	fi
	if ((${#msgs[@]})); then
		rt_result "$name" fail "${msgs[@]}" "$(sb_failure_detail "$d" "$st")"
	else
		rt_result "$name" pass
	fi
}

test_exec() {
	head -c 4096 /dev/urandom >"$HOSTDIR/random.bin"
	printf 'RAND' | dd of="$HOSTDIR/random.bin" conv=notrunc status=none # never "#!" or ELF
	chmod +x "$HOSTDIR/random.bin"
	: >"$HOSTDIR/empty"
	chmod +x "$HOSTDIR/empty"
	if [[ -x $P/exit_code ]]; then
		head -c 100 $P/exit_code >"$HOSTDIR/truncated"
		chmod +x "$HOSTDIR/truncated"
		# A whole ELF whose program headers point far past the end of the file.
		cp $P/exit_code "$HOSTDIR/bad-phoff"
		printf '\xff\xff\xff\x7f' | dd of="$HOSTDIR/bad-phoff" bs=1 seek=32 conv=notrunc status=none
		cp $P/exit_code "$HOSTDIR/not-executable"
		chmod 644 "$HOSTDIR/not-executable"
	fi
	exec_case not-found 127 '' /nonexistent-runsc-c/cmd
	exec_case not-in-path 127 '' runsc-c-no-such-command
	exec_case random-bytes 126 'exec format|ENOEXEC' "$HOSTDIR/random.bin"
	exec_case empty-file 126 'exec format|ENOEXEC' "$HOSTDIR/empty"
	if [[ -x $P/exit_code ]]; then
		exec_case truncated-elf 126 'exec format|ENOEXEC' "$HOSTDIR/truncated"
		exec_case bad-phoff-elf 126 '' "$HOSTDIR/bad-phoff"
		exec_case not-executable 126 'permission|EACCES' "$HOSTDIR/not-executable"
	elif rt_selected exec-elf; then
		rt_result exec-elf fail "$P/exit_code is not built (run: make progs)"
	fi
	exec_case directory 126 '' /usr
}

test_host_untouched
test_host_modify
test_env
test_fds
test_sentry_trace
test_confinement
test_seccomp_list
test_exec
test_mount_escape
test_vdso_untrapped
rt_finish
