# mounts.sh: sourced by tests/workloads/run.sh. SANDBOX-ONLY cases for `runsc-c do --volume`,
# `--tmpfs` and `--read-only`: a script runs in the sandbox (busybox sh) and must print exactly
# what is expected; then the host side of each bind mount is checked.
# shellcheck shell=bash

# mount_run NAME WANT_FILE SCRIPT DO_FLAGS...: runs SCRIPT with busybox sh in a sandbox made with
# DO_FLAGS (before --); stdout must equal WANT_FILE's text and the status 0. Returns 1 (after
# recording the failure) when it did not.
mount_run() {
	local name=$1 want=$2 script=$3
	shift 3
	local d="$RT_TMP/$name"
	RT_SB=("${RT_RUNSC_CMD[@]}" do "${RT_DO_FLAGS[@]}" "$@" -- "$BB" sh -c "$script")
	rt_log "      \$ ${RT_SB[*]}"
	rt_exec "$d.out" "$d.err" /dev/null "${RT_SB[@]}"
	if [[ $RT_STATUS -ne 0 ]] || ! diff -u "$want" "$d.out" >"$d.diff"; then
		rt_result "$name" fail "status $RT_STATUS; want/got diff:" "$(head -40 "$d.diff")" \
			"command: ${RT_SB[*]}" "stderr (tail):" "$(rt_tail "$d.err" 10)"
		return 1
	fi
	return 0
}

# mount_host_check NAME MSG...: the verdict after the host checks (no MSG: pass).
mount_verdict() {
	local name=$1
	shift
	if (($#)); then rt_result "$name" fail "$@"; else rt_result "$name" pass; fi
}

# A read-write bind mount: every kind of write reaches the host.
mount_rw() {
	local name=mount-rw
	rt_selected $name || return 0
	local h="$RT_TMP/$name.host" msgs=()
	mkdir -p "$h/keep-dir"
	echo "host line" >"$h/existing"
	echo "to be removed" >"$h/gone"
	cat >"$RT_TMP/$name.want" <<-'EOF'
		host line
		appended in the sandbox
		4
		l -> existing
		600
		dir moved
	EOF
	mount_run $name "$RT_TMP/$name.want" '
		cd /data || exit 1
		cat existing
		echo "written in the sandbox" > new
		echo "appended in the sandbox" >> existing
		tail -n 1 existing
		mkdir sub sub/deeper
		mv new sub/deeper/renamed
		rm gone
		ln -s existing l
		echo "0123456789" > trunc
		truncate -s 4 trunc
		stat -c %s trunc
		echo "l -> $(readlink l)"
		chmod 600 sub/deeper/renamed
		stat -c %a sub/deeper/renamed
		ln sub/deeper/renamed hard
		mkdir d1 && mv d1 d2 && rmdir keep-dir && echo "dir moved"
	' --volume "$h:/data" || return 0
	[[ $(cat "$h/sub/deeper/renamed" 2>/dev/null) == "written in the sandbox" ]] ||
		msgs+=("host: sub/deeper/renamed is missing or wrong")
	[[ $(stat -c %a "$h/sub/deeper/renamed" 2>/dev/null) == 600 ]] || msgs+=("host: chmod did not arrive")
	[[ $(stat -c %h "$h/hard" 2>/dev/null) == 2 ]] || msgs+=("host: the hard link is missing")
	[[ -e $h/gone ]] && msgs+=("host: gone was not removed")
	[[ -e $h/new ]] && msgs+=("host: new was not renamed")
	[[ $(readlink "$h/l") == existing ]] || msgs+=("host: symlink l is missing or wrong")
	[[ $(cat "$h/trunc" 2>/dev/null) == 0123 ]] || msgs+=("host: trunc was not truncated to 4 bytes")
	[[ $(tail -n 1 "$h/existing") == "appended in the sandbox" ]] || msgs+=("host: the append is missing")
	[[ -d $h/d2 && ! -e $h/d1 && ! -e $h/keep-dir ]] || msgs+=("host: mkdir/rename/rmdir of directories")
	mount_verdict $name "${msgs[@]}"
}

# A read-only bind mount: every mutation is EROFS, the host is unchanged.
mount_ro() {
	local name=mount-ro
	rt_selected $name || return 0
	local h="$RT_TMP/$name.host" before after
	mkdir -p "$h/dir"
	echo "read only" >"$h/file"
	before=$(cd "$h" && find . -printf '%p %s %m %T@\n' | sort)
	cat >"$RT_TMP/$name.want" <<-'EOF'
		read only
		create: EROFS
		append: EROFS
		mkdir: EROFS
		rm: EROFS
		rmdir: EROFS
		mv: EROFS
		symlink: EROFS
		link: EROFS
		chmod: EROFS
		truncate: EROFS
		touch: EROFS
	EOF
	# busybox's messages end in strerror(EROFS); each line says whether that is what failed.
	mount_run $name "$RT_TMP/$name.want" '
		t() { what=$1; shift; if "$@" 2>/dev/shm/err; then echo "$what: succeeded"
			elif grep -q "Read-only file system" /dev/shm/err; then echo "$what: EROFS"
			else echo "$what: $(cat /dev/shm/err)"; fi; }
		cat /ro/file
		t create sh -c "echo x > /ro/new"
		t append sh -c "echo x >> /ro/file"
		t mkdir mkdir /ro/newdir
		t rm rm /ro/file
		t rmdir rmdir /ro/dir
		t mv mv /ro/file /ro/moved
		t symlink ln -s file /ro/sl
		t link ln /ro/file /ro/hard
		t chmod chmod 600 /ro/file
		t truncate truncate -s 0 /ro/file
		t touch touch /ro/file
	' --volume "$h:/ro:ro" || return 0
	after=$(cd "$h" && find . -printf '%p %s %m %T@\n' | sort)
	if [[ $before == "$after" ]]; then
		mount_verdict $name
	else
		mount_verdict $name "the host directory changed:" "$(diff <(echo "$before") <(echo "$after"))"
	fi
}

# A single file bind-mounted read-write, and one read-only, at paths the root does not have.
mount_file() {
	local name=mount-file
	rt_selected $name || return 0
	local h="$RT_TMP/$name.host"
	mkdir -p "$h"
	echo "file one" >"$h/one"
	echo "file two" >"$h/two"
	cat >"$RT_TMP/$name.want" <<-'EOF'
		file one
		regular file
		file two
		two: EROFS
	EOF
	mount_run $name "$RT_TMP/$name.want" '
		cat /etc/runsc-c-mount-one
		stat -c %F /etc/runsc-c-mount-one
		echo "from the sandbox" >> /etc/runsc-c-mount-one
		cat /new/dir/two
		if sh -c "echo x >> /new/dir/two" 2>/dev/shm/err; then echo "two: written"
		elif grep -q "Read-only" /dev/shm/err; then echo "two: EROFS"; else cat /dev/shm/err; fi
	' --volume "$h/one:/etc/runsc-c-mount-one" --volume "$h/two:/new/dir/two:ro" || return 0
	local msgs=()
	[[ $(cat "$h/one") == "file one"$'\n'"from the sandbox" ]] || msgs+=("host: the append to one is missing")
	[[ $(cat "$h/two") == "file two" ]] || msgs+=("host: two changed")
	[[ -e /etc/runsc-c-mount-one ]] && msgs+=("host: /etc/runsc-c-mount-one was created on the host")
	mount_verdict $name "${msgs[@]}"
}

# A tmpfs with a size limit and a mode.
mount_tmpfs() {
	local name=mount-tmpfs
	rt_selected $name || return 0
	cat >"$RT_TMP/$name.want" <<-'EOF'
		700 tmpfs
		dd: ENOSPC
		65536
		after rm: ok
	EOF
	mount_run $name "$RT_TMP/$name.want" '
		echo "$(stat -c %a /scratch) $(stat -f -c %T /scratch)"
		if dd if=/dev/zero of=/scratch/big bs=4096 count=64 2>/dev/shm/err; then echo "dd: fit"
		elif grep -q "No space left" /dev/shm/err; then echo "dd: ENOSPC"; else cat /dev/shm/err; fi
		stat -c %s /scratch/big
		rm /scratch/big
		dd if=/dev/zero of=/scratch/small bs=4096 count=8 2>/dev/null && echo "after rm: ok"
	' --tmpfs /scratch:size=64k,mode=0700 && mount_verdict $name
}

# --read-only: the root (and /tmp, part of it) refuses writes; /dev/shm and a --tmpfs do not.
mount_read_only_root() {
	local name=mount-read-only-root
	rt_selected $name || return 0
	cat >"$RT_TMP/$name.want" <<-'EOF'
		/tmp: EROFS
		/etc: EROFS
		mkdir: EROFS
		/dev/shm: ok
		/run/w: ok
	EOF
	mount_run $name "$RT_TMP/$name.want" '
		t() { what=$1; shift; if "$@" 2>/dev/shm/err; then echo "$what: ok"
			elif grep -q "Read-only file system" /dev/shm/err; then echo "$what: EROFS"
			else echo "$what: $(cat /dev/shm/err)"; fi; }
		t /tmp sh -c "echo x > /tmp/x"
		t /etc sh -c "echo x > /etc/runsc-c-ro"
		t mkdir mkdir /runsc-c-ro-dir
		t /dev/shm sh -c "echo x > /dev/shm/x"
		t /run/w sh -c "echo x > /run/w/x"
	' --read-only --tmpfs /run/w && mount_verdict $name
}

# A read-only host tree through the gofer, as the root's lower layer and as a :ro volume:
# listings, lookups of names listed and not, symlinks on the way, and a path deeper than goferfs
# names files by (docs/architecture.md, "The gofer protocol") must look as they do natively.
mount_ro_tree() {
	local name=mount-ro-tree
	rt_selected $name || return 0
	local h="$RT_TMP/$name.host" deep seg
	seg=$(printf 'd%.0s' {1..200})
	deep=$seg/$seg/$seg/$seg/$seg/$seg/$seg/$seg/$seg/$seg/$seg/$seg # 2411 bytes
	mkdir -p "$h/a/b" "$h/empty" "$h/$deep"
	# deeper than PATH_MAX from the root: made (and read) one directory at a time
	(cd "$h" && for _ in {1..24}; do mkdir "x$seg" && cd "x$seg" || exit 1; done &&
		echo "past PATH_MAX" >file)
	echo "in b" >"$h/a/b/file"
	echo "at the bottom" >"$h/$deep/file"
	printf '%s' 0123456789 >"$h/a/ten"
	ln -s a/b "$h/to-b"
	ln -s /nonexistent "$h/dangling"
	ln -s .. "$h/a/b/up"
	chmod 640 "$h/a/ten"
	local script='
		exec 2>&1
		cd "$1" || exit 1
		find . -path "./x*" -prune -o -print | sort
		find . -path "./x*" -prune -o -type f -print | sort | while read -r f; do stat -c "%n %s %a %F" "$f"; done
		find . -path "./x*" -prune -o -type l -print | sort | while read -r l; do echo "$l -> $(readlink "$l")"; done
		cat to-b/file to-b/up/b/file
		cd d*/d*/d*/d*/d*/d*/d*/d*/d*/d*/d*/d* && cat file && ls && cd - >/dev/null
		ls -a empty
		[ -x /usr/bin/python3 ] && /usr/bin/python3 -c "if 1:
			import os
			for _ in range(24): os.chdir([n for n in os.listdir() if n[0] == \"x\"][0])
			print(open(\"file\").read(), os.listdir(\".\"), os.stat(\"file\").st_size)"
		for n in nope a/nope a/b/nope to-b/nope dangling; do [ -e "$n" ] || echo "$n: none"; done
		[ -d to-b ] && [ -L to-b ] && echo "to-b: a symlink to a directory"
	'
	(cd "$RT_TMP" && "$BB" sh -c "$script" sh "$h") >"$RT_TMP/$name.want"
	mount_run $name-root "$RT_TMP/$name.want" "set -- '$h'; $script" || return 0
	mount_run $name "$RT_TMP/$name.want" "set -- /ro; $script" --volume "$h:/ro:ro" ||
		return 0
	mount_verdict $name
}

# A private mapping of a file on a read-write volume, truncated after its first touch: SIGBUS
# past the new end in the sandbox as natively (the sandbox fills such mappings as touched).
mount_mmap_truncate() {
	local name=mount-mmap-truncate prog=$PWD/build/tests/syscalls/mmap_lazy
	rt_selected $name || return 0
	local h="$RT_TMP/$name.host"
	mkdir -p "$h"
	if ! "$prog" "$h" >"$RT_TMP/$name.want" 2>"$RT_TMP/$name.native-err"; then
		rt_result $name fail "native run failed (make syscalls?):" \
			"$(rt_tail "$RT_TMP/$name.native-err" 5)"
		return 0
	fi
	mount_run $name "$RT_TMP/$name.want" "$prog /data" --volume "$h:/data" || return 0
	mount_verdict $name
}

mount_rw
mount_ro
mount_ro_tree
mount_file
mount_tmpfs
mount_read_only_root
mount_mmap_truncate
