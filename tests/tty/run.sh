#!/bin/bash
# run.sh: interactive shells on a terminal, natively and in the sandbox. Each scenario drives
# busybox sh and Debian's bash on a new pty with build/tests/tty/ptydrive (keystrokes in, expected
# output within a timeout), once natively and once under `runsc-c do`; it passes when both runs
# pass every step (and, for stty, print the same settings).
#   tests/tty/run.sh [-v] [FILTER...]     (needs `make build/tests/tty/ptydrive`)
# TTY_DELAY (ms, default 400): the pause between typing a command and the keystroke meant for
# it once it runs (^C/^Z for sleep, a line for cat): the command must have started by then.
# See tests/progs/lib.sh for RUNSC, RUNSC_DO_FLAGS and RT_TIMEOUT.
# shellcheck source=tests/progs/lib.sh
source "$(dirname "$0")/../progs/lib.sh"
rt_init tty "$@"

DRIVE=build/tests/tty/ptydrive
DELAY=${TTY_DELAY:-400}
# The prompt: nothing typed in the scenarios contains it.
PROMPT='@tty@ '
SANDBOX_ENV=(PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root
	TERM=dumb LANG=C.UTF-8 "PS1=$PROMPT")

if [[ ! -x $DRIVE ]]; then
	rt_result ptydrive fail "$DRIVE is missing (make $DRIVE)"
	rt_finish
fi

# The scenarios: ptydrive scripts (see tests/tty/ptydrive.c). @P@ stands for the prompt and
# @D@ for TTY_DELAY. Every one starts by waiting for the first prompt.

# script_of NAME: the ptydrive script of scenario NAME.
script_of() {
	case $1 in
	# A command runs and prints; `exit N` gives N.
	echo)
		cat <<'EOF'
expect @P@
send echo hello\n
expect \nhello\r\n
expect @P@
send exit 3\n
exit 3
EOF
		;;
	# ^C interrupts sleep and the prompt is back within a second; $? is 130.
	sigint)
		cat <<'EOF'
expect @P@
send sleep 30\n
expect sleep 30\r\n
sleep @D@
send \x03
expect:1000 @P@
send echo st=$?\n
expect st=130\r\n
expect @P@
send exit 2\n
exit 2
EOF
		;;
	# ^Z stops sleep, jobs lists it stopped, fg brings it back (the shell prints its command) and
	# ^C ends it: had fg not resumed it in the foreground, the SIGINT would not end it.
	jobs)
		cat <<'EOF'
expect @P@
send sleep 30\n
expect sleep 30\r\n
sleep @D@
send \x1a
expect [1]+  Stopped
expect sleep 30\r\n
expect @P@
send jobs\n
expect jobs\r\n
expect [1]+  Stopped
expect sleep 30\r\n
expect @P@
send fg\n
expect fg\r\n
expect sleep 30\r\n
sleep @D@
send \x03
expect:1000 @P@
send echo st=$?\n
expect st=130\r\n
expect @P@
send jobs; echo none-left\n
expect jobs; echo none-left\r\n
expect none-left\r\n
expect @P@
send exit 4\n
exit 4
EOF
		;;
	# cat: the terminal echoes the typed line, then cat prints it; ^D ends cat with status 0.
	cat)
		cat <<'EOF'
expect @P@
send cat\n
expect cat\r\n
sleep @D@
send typed line\n
expect typed line\r\ntyped line\r\n
sleep @D@
send \x04
expect @P@
send echo st=$?\n
expect st=0\r\n
expect @P@
send exit 5\n
exit 5
EOF
		;;
	# ^D at the prompt ends the shell with status 0.
	eof)
		cat <<'EOF'
expect @P@
send true\n
expect @P@
send \x04
exit 0
EOF
		;;
	# tty names a /dev/pts terminal.
	tty)
		cat <<'EOF'
expect @P@
send tty; echo st=$?\n
expect tty; echo st=$?\r\n
expect /dev/pts/
expect \r\nst=0\r\n
expect @P@
send exit 6\n
exit 6
EOF
		;;
	# stty -a prints the terminal's settings (compared between native and sandbox below).
	stty)
		cat <<'EOF'
expect @P@
send stty -a; echo st=$?\n
capture stty stty\s-a;\secho\sst=$?\r\n \r\nst=
expect 0\r\n
expect @P@
send exit 7\n
exit 7
EOF
		;;
	esac
}

SCENARIOS=(echo sigint jobs cat eof tty stty)

# drive DIR SIDE SCRIPT CMD...: runs ptydrive; its stderr in DIR/SIDE.err, the transcript in
# DIR/SIDE.out (captures in DIR/SIDE.out.NAME).
drive() {
	local d=$1 side=$2 script=$3
	shift 3
	(
		ulimit -c 0
		timeout -k 5 "$RT_TIMEOUT" "$DRIVE" -t 5000 -T 15000 -o "$d/$side.out" "$script" -- "$@"
	) </dev/null >"$d/$side.err" 2>&1
}

# scenario SHELL NAME CMD...: one scenario with the shell run by CMD, natively and sandboxed
# (at the same time: they share nothing).
scenario() {
	local shell=$1 name=$2
	shift 2
	local test="$shell-$name"
	rt_selected "$test" || return 0
	local d="$RT_TMP/$test" script="$RT_TMP/$test/script"
	mkdir -p "$d"
	local text
	text=$(script_of "$name")
	text=${text//@P@/${PROMPT% }}
	text=${text//@D@/$DELAY}
	printf '%s\n' "$text" >"$script"
	local sb=("${RT_RUNSC_CMD[@]}" "do" "${RT_DO_FLAGS[@]}")
	local kv
	for kv in "${SANDBOX_ENV[@]}"; do
		[[ $kv == PATH=* ]] || sb+=(--env "$kv")
	done
	sb+=(-- "$@")
	rt_log "----- tty/$test: $*"
	drive "$d" native "$script" env -i "${SANDBOX_ENV[@]}" "$@" &
	local npid=$!
	drive "$d" sandbox "$script" "${sb[@]}"
	local ss=$? ns
	wait "$npid"
	ns=$?
	local msgs=()
	if ((ns != 0)); then
		msgs+=("native run failed (a broken test, or a host difference):" "$(cat "$d/native.err")")
	fi
	if ((ss != 0)); then
		msgs+=("sandbox run failed:" "$(cat "$d/sandbox.err")" "command: ${sb[*]}")
	fi
	local f
	for f in "$d"/native.out.*; do
		[[ -e $f ]] || continue
		f=${f##*/native.out.}
		if ((ns == 0 && ss == 0)) && ! cmp -s "$d/native.out.$f" "$d/sandbox.out.$f"; then
			msgs+=("$f differs (--- native, +++ sandbox):"
				"$(diff -u "$d/native.out.$f" "$d/sandbox.out.$f" | tail -n +3)")
		fi
	done
	if ((${#msgs[@]})); then
		rt_result "$test" fail "${msgs[@]}"
	else
		rt_result "$test" pass
		if ((RT_VERBOSE)); then
			tr -d '\r' <"$d/sandbox.out" | sed 's/^/      | /' | head -n 30
		fi
	fi
}

# The stty capture must hold the settings that matter, natively already.
check_stty() {
	local shell=$1 out="$RT_TMP/$1-stty/native.out.stty"
	rt_selected "$shell-stty-content" || return 0
	local want
	for want in 'rows 24; columns 80;' 'intr = \^C;' 'susp = \^Z;' 'eof = \^D;' \
		'(^|[[:space:]])isig[[:space:]]' '(^|[[:space:]])icanon[[:space:]]' \
		'(^|[[:space:]])echo[[:space:]]'; do
		if ! grep -qE -- "$want" "$out" 2>/dev/null; then
			rt_result "$shell-stty-content" fail "stty -a printed no '$want':" \
				"$(cat "$out" 2>/dev/null)"
			return
		fi
	done
	rt_result "$shell-stty-content" pass
}

if [[ -x /bin/busybox ]]; then
	for s in "${SCENARIOS[@]}"; do
		scenario busybox "$s" /bin/busybox sh -i
	done
	check_stty busybox
else
	rt_result busybox skip "/bin/busybox is missing (apt-get install busybox-static)"
fi
for s in "${SCENARIOS[@]}"; do
	scenario bash "$s" /bin/bash --norc --noprofile -i
done
check_stty bash

rt_finish
