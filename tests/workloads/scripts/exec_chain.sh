# exec_chain.sh: nested shells, exec, environment passing, scripts with #!, PATH lookup.
# shells: busybox bash
d=$(mktemp -d)
printf '#!/bin/sh\necho "script args: $# $1 $2"\nexit 4\n' >"$d/s.sh"
chmod +x "$d/s.sh"
"$d/s.sh" one two; echo "script status $?"
PATH="$d:$PATH" s.sh via-path; echo "via PATH $?"
printf 'echo no shebang: $0 | sed "s|.*/||"\n' >"$d/plain"
chmod +x "$d/plain"
"$d/plain"; echo "plain status $?"
sh -c 'exec sh -c "echo exec replaced the shell; exit 6"'; echo "exec status $?"
X=outer sh -c 'echo "env passed: $X"; Y=inner sh -c "echo nested: \$Y"'
export EXPORTED=yes; sh -c 'echo "exported: $EXPORTED"'
bash -c 'echo "bash says $((6 * 7))"'
/bin/busybox sh -c 'echo "busybox says $((6 * 7))"'
env A=1 B=2 sh -c 'echo $A$B'
(exec true); echo "exec true in subshell $?"
"$d/nonexistent" 2>/dev/null; echo "missing command $?"
chmod -x "$d/s.sh"; "$d/s.sh" 2>/dev/null; echo "not executable $?"
rm -rf "$d"
echo done
