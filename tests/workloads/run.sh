#!/bin/bash
# run.sh: workloads natively and in the sandbox: same stdout, same status. busybox-static applets,
# then the shell scripts in tests/workloads/scripts run by busybox sh and by Debian's bash, then perl,
# gcc, git, sqlite3 and make (toolchain.sh), then the sandbox-only expectations (pid 1).
#   tests/workloads/run.sh [-v] [FILTER...]     (needs /bin/busybox from Debian's busybox-static)
# See tests/progs/lib.sh for RUNSC, RUNSC_DO_FLAGS and RT_TIMEOUT.
# shellcheck source=tests/progs/lib.sh
source "$(dirname "$0")/../progs/lib.sh"
rt_init workloads "$@"

BB=/bin/busybox
if [[ ! -x $BB ]]; then
	rt_result busybox skip "$BB is missing (apt-get install busybox-static)"
	rt_finish
fi

# w NAME STATUS APPLET ARGS...: one applet run with stdin from /dev/null.
w() {
	local name=$1 status=$2
	shift 2
	rt_pair "$name" "$status" /dev/null "$BB" "$@"
}

# Files.
w cat-os-release       0 cat /etc/os-release
w cat-two-files        0 cat /etc/passwd /etc/os-release
w cat-missing          1 cat /nonexistent-runsc-c
w head-services        0 head -n 3 /etc/services
w tail-services        0 tail -n 2 /etc/services
w wc-passwd            0 wc /etc/passwd
w sha256sum-busybox    0 sha256sum /bin/busybox
w md5sum-passwd        0 md5sum /etc/passwd
w cut-passwd           0 cut -d: -f1,7 /etc/passwd
w grep-root            0 grep -n root /etc/passwd
w grep-none            1 grep runsc-c-no-such-line /etc/passwd
w sort-passwd          0 sort /etc/passwd
w sed-os-release       0 sed -n '2,4p' /etc/os-release
# shellcheck disable=SC2016 # awk's $1, not the shell's
w awk-passwd           0 awk -F: '{ n++ } END { print n, $1 }' /etc/passwd

# Directories and metadata.
w ls-root              0 ls /
w ls-include-linux     0 ls /usr/include/linux
w ls-la-doc            0 ls -la /usr/share/doc/busybox-static
w ls-lan-examples      0 ls -lan /usr/share/doc/busybox-static/examples
w ls-missing           1 ls /nonexistent-runsc-c
w stat-size            0 stat -c %s /etc/os-release
w stat-format          0 stat -c '%n %s %a %F' /etc/passwd /usr /bin
w readlink-os-release  0 readlink /etc/os-release
w realpath-os-release  0 realpath /etc/os-release
w du-doc               0 du -s /usr/share/doc/busybox-static
# shellcheck disable=SC2034 # read by rt_compare in lib.sh
RT_SORT_OUTPUT=1 # find prints in directory order, which need not match the host's
w find-doc             0 find /usr/share/doc/busybox-static
RT_SORT_OUTPUT=0
w test-d-usr           0 test -d /usr
w test-d-missing       1 test -d /nonexistent-runsc-c
w test-f-passwd        0 test -f /etc/passwd
w test-x-busybox       0 test -x /bin/busybox

# No files at all.
w uname-s              0 uname -s
w uname-m              0 uname -m
w echo                 0 echo hello world
w true                 0 true
w false                1 false
w basename             0 basename /a/b/c
w dirname              0 dirname /a/b/c
w printf               0 printf '%s-%d|%5.2f\n' abc 42 3.14159
w seq                  0 seq 1 5
w expr                 0 expr 2 + 3
w expr-zero            1 expr 2 - 2
w sleep                0 sleep 0.05

# stdin: a pipe, and a host file.
rt_pipe wc-c-pipe          0 'echo abc' "$BB" wc -c
rt_pipe cat-pipe           0 'seq 1 1000' "$BB" cat
rt_pipe sha256sum-pipe     0 'cat /bin/busybox' "$BB" sha256sum
rt_pipe tr-pipe            0 'cat /etc/os-release' "$BB" tr a-z A-Z
rt_pair wc-l-file-stdin    0 /etc/services "$BB" wc -l
rt_pair md5sum-file-stdin  0 /bin/busybox "$BB" md5sum

# Shell scripts. Each names its shells ("# shells: busybox bash") and, when not 0, its exit status
# ("# status: N"). Both runs get the environment `runsc-c do` gives, so nothing of the caller's
# (BASH_ENV, locale, ...) changes the native run.
WL_ENV=(/usr/bin/env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
	HOME=/root TERM=xterm LANG=C.UTF-8)
for script in tests/workloads/scripts/*.sh; do
	name=$(basename "$script" .sh)
	status=$(sed -n 's/^# status: *//p' "$script")
	for sh in $(sed -n 's/^# shells: *//p' "$script"); do
		case $sh in
		busybox) shell=("$BB" sh) ;;
		bash) shell=(/bin/bash) ;;
		*)
			rt_result "sh-$name" fail "$script: unknown shell $sh"
			continue
			;;
		esac
		rt_pair "sh-$name-$sh" "${status:-0}" /dev/null "${WL_ENV[@]}" "${shell[@]}" "$script"
	done
done

# perl, gcc, git, sqlite3, make.
# shellcheck source=tests/workloads/toolchain.sh
source tests/workloads/toolchain.sh
# Python and node (tests/workloads/runtimes.sh).
# shellcheck source=tests/workloads/runtimes.sh
source tests/workloads/runtimes.sh

# sandbox_expect NAME WANT CMD...: sandbox-only expectations, for what differs from a native run
# by design: CMD runs only in the sandbox and must print exactly WANT (one line) and exit 0.
sandbox_expect() {
	local name=$1 want=$2
	shift 2
	rt_selected "$name" || return 0
	local d="$RT_TMP/$name"
	mkdir -p "$d"
	rt_sandbox_cmd "$@"
	rt_exec "$d/sandbox.out" "$d/sandbox.err" /dev/null "${RT_SB[@]}"
	local got
	got=$(cat "$d/sandbox.out")
	if [[ $RT_STATUS -eq 0 && $got == "$want" ]]; then
		rt_result "$name" pass
	else
		rt_result "$name" fail "sandbox-only expectation: want \"$want\", status 0" \
			"got \"$got\", status $RT_STATUS" "command: ${RT_SB[*]}" \
			"sandbox stderr (tail):" "$(rt_tail "$d/sandbox.err" 10)"
	fi
}

# SANDBOX-ONLY: the first process of the sandbox is pid 1 of its pid namespace, and its parent
# is outside the namespace (getppid() is 0), as in a container.
# shellcheck disable=SC2016 # $$ is for the shell in the sandbox
sandbox_expect sandbox-only-pid1-sh      1 /bin/sh -c 'echo $$'
# shellcheck disable=SC2016
sandbox_expect sandbox-only-pid1-busybox 1 "$BB" sh -c 'echo $$'
# shellcheck disable=SC2016
sandbox_expect sandbox-only-pid1-bash    1 /bin/bash -c 'echo $$'
# shellcheck disable=SC2016
sandbox_expect sandbox-only-ppid0        0 /bin/sh -c 'echo $PPID'

# SANDBOX-ONLY: --volume, --tmpfs and --read-only, checked on the host afterwards.
# shellcheck source=tests/workloads/mounts.sh
source "$(dirname "$0")/mounts.sh"

rt_finish
