# redirs.sh: redirections: numbered fds (exec 3>file), >>, <, <>, 2>&1 ordering, noclobber.
# shells: busybox bash
export LC_ALL=C
d=$(mktemp -d)
cd "$d" || exit 1
exec 3>out3.txt
echo "to fd 3" >&3
echo "again fd 3" >&3
exec 3>&-
cat out3.txt
exec 4<out3.txt
read -r first <&4
read -r second <&4
exec 4<&-
echo "read [$first] [$second]"
echo one >f; echo two >>f; cat f
wc -l <f
{ echo to-stdout; echo to-stderr >&2; } 2>err.txt >out.txt
echo "out: $(cat out.txt) err: $(cat err.txt)"
{ echo x; echo y >&2; } >both.txt 2>&1
sort both.txt | tr '\n' ' '; echo
ls nonexistent-file 2>/dev/null || echo "ls failed quietly $?"
exec 5<>rw.txt
echo "written via 5" >&5
exec 5>&-
cat rw.txt
set -C
if (echo clobber >f) 2>/dev/null; then echo "noclobber broken"; else echo "noclobber refused"; fi
echo forced >|f; cat f
set +C
exec 6>&1
exec 1>redirected.txt
echo "into a file"
exec 1>&6 6>&-
echo "back: $(cat redirected.txt)"
( exec 7>seven.txt; echo "in subshell fd 7" >&7 ); cat seven.txt
cd / && rm -rf "$d"
echo done
