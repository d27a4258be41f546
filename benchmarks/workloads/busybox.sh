# busybox.sh: the shell-script workload of benchmarks/run.sh, run as `/bin/busybox sh busybox.sh`.
# A mix of what shell scripts do: arithmetic and string loops in the shell itself, globbing and
# tests of files, command substitutions and pipelines of busybox applets (fork + exec of the
# static /bin/busybox). Prints a summary line; exits 0.
BB=/bin/busybox

i=0
sum=0
while [ $i -lt 3000 ]; do
	sum=$((sum + i * i % 7))
	i=$((i + 1))
done

s=""
for w in alpha beta gamma delta epsilon zeta eta theta; do
	s="$s-$w"
	case $w in
	*a) s="$s!" ;;
	esac
done

n=0
for f in /etc/* /usr/bin/*; do
	[ -f "$f" ] && n=$((n + 1))
done

lines=0
for j in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
	x=$(echo "Line $j of $s" | $BB sed 's/Line/LINE/' | $BB tr 'A-Z' 'a-z')
	lines=$((lines + ${#x}))
done

top=$($BB seq 1 2000 | $BB sort -rn | $BB head -n 3 | $BB tr '\n' ' ')
words=$($BB wc -w </etc/services)

echo "sum=$sum files=$n chars=$lines top=$top words=$words"
