# shell_basics.sh: variables, arithmetic, loops, case, functions, exit statuses, set -e.
# shells: busybox bash
# status: 3
x=5
y=$((x * 3 + 2))
echo "arith $y $((y % 4)) $((1 << 10)) $(( (x > 3) && (y < 100) ))"
s="hello-world.tar.gz"
echo "strip ${s%.gz} ${s%%.*} ${s#*-} ${#s}"
echo "default ${unset_var:-dflt} ${x:+set}"
i=0
while [ $i -lt 5 ]; do i=$((i + 1)); printf '%s ' "$i"; done; echo
until [ $i -eq 0 ]; do i=$((i - 1)); done; echo "until $i"
for w in alpha "beta gamma" delta; do echo "for [$w]"; done
for f in a b c; do
	case $f in
	a) echo "case a" ;;
	b | c) echo "case b-or-c $f" ;;
	esac
done
add() { echo $(($1 + $2)); }
echo "function $(add 40 2)"
ret() { return "$1"; }
ret 7; echo "return $?"
counter() { n=$((n + 1)); }
n=0; counter; counter; echo "global from function $n"
set -- one two three
echo "positional $# $1 $3"
shift; echo "after shift $# $1"
true; echo "true $?"
false; echo "false $?"
! false; echo "negated $?"
false || echo "or-branch"
true && echo "and-branch"
(exit 42); echo "subshell exit $?"
( set -e; false; echo "not reached" ); echo "set -e subshell $?"
sh_status=$(sh -c 'exit 9'; echo $?); echo "child shell $sh_status"
if [ -z "" ] && [ -n "x" ] && [ "a" = "a" ] && [ 3 -ge 2 ]; then echo "tests ok"; fi
IFS=: read -r a b c <<EOT
f1:f2:f3
EOT
echo "read $a $b $c"
OPTIND=1
while getopts "ab:c" opt -a -b val -c; do echo "opt $opt ${OPTARG:-}"; done
exit 3
