# text_tools.sh: grep, sed, mawk, find, xargs, sort, diff, tar, gzip on files made in /tmp.
# shells: busybox bash
export LC_ALL=C TZ=UTC
d=$(mktemp -d)
cd "$d" || exit 1
cat >data.txt <<'EOT'
apple 3 red
banana 12 yellow
cherry 7 red
date 1 brown
elderberry 25 purple
fig 7 purple
EOT
grep -n red data.txt
grep -c purple data.txt
grep -v -E 'red|purple' data.txt
grep -o '[0-9]\+' data.txt | tr '\n' ' '; echo
grep -q nothing-here data.txt; echo "grep -q miss: $?"
sed -n '2,3p' data.txt
sed 's/red/RED/g; /brown/d' data.txt
sed -e 's/^\([a-z]*\) \([0-9]*\).*/\2:\1/' data.txt | sort -t: -k1,1n
cp data.txt inplace.txt && sed -i 's/purple/violet/' inplace.txt && grep -c violet inplace.txt
mawk '{ sum += $2; n++ } END { printf "mawk sum %d avg %.2f n %d\n", sum, sum / n, n }' data.txt
mawk -F' ' '$3 == "red" { print toupper($1) }' data.txt
mawk 'BEGIN { for (i = 1; i <= 3; i++) printf "%d^2=%d\n", i, i * i }'
sort -k2,2n data.txt | head -3
sort -k3,3 -k1,1r data.txt | cut -d' ' -f1 | tr '\n' ' '; echo
sort -u -k3,3 data.txt | wc -l
mkdir -p tree/a/b tree/c
for f in tree/x.txt tree/a/y.txt tree/a/b/z.log tree/c/w.txt; do echo "$f" >"$f"; done
find tree | sort
find tree -name '*.txt' -type f | sort
find tree -type d | sort | tr '\n' ' '; echo
find tree -name '*.txt' -print0 | xargs -0 cat | sort
find tree -type f | sort | xargs -n 2 echo
seq 1 7 | xargs -I{} echo "item {}" | tail -2
printf 'one\ntwo\nthree\n' >old.txt
printf 'one\n2\nthree\nfour\n' >new.txt
diff old.txt new.txt; echo "diff status $?"
diff -u --label old --label new old.txt new.txt; echo "diff -u status $?"
diff old.txt old.txt && echo "identical"
tar cf t.tar tree/x.txt tree/a/y.txt tree/a/b/z.log
tar tf t.tar
mkdir ex && tar xf t.tar -C ex && cat ex/tree/a/b/z.log
tar czf t.tgz tree && mkdir ex2 && tar xzf t.tgz -C ex2 && find ex2 -type f | sort
seq 1 3000 >big.txt
gzip -n -c big.txt >big.txt.gz && gzip -t big.txt.gz && echo "gzip test ok"
gunzip -c big.txt.gz | cmp - big.txt && echo "gunzip round trip"
gzip -n -9 -c big.txt | md5sum
cp big.txt big2.txt && gzip big2.txt && ls big2.txt* && gunzip big2.txt.gz && wc -l big2.txt
cd / && rm -rf "$d"
echo done
