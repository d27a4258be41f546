# coreutils.sh: everyday file and text utilities on files made in /tmp.
# shells: busybox bash
export LC_ALL=C TZ=UTC
d=$(mktemp -d)
cd "$d" || exit 1
mkdir -p a/b/c
printf 'line %s\n' 3 1 2 10 1 >nums.txt
seq 1 50 >seq.txt
touch -d '2001-02-03 04:05:06' nums.txt
ls
ls -a a
ls -l nums.txt | cut -d' ' -f1,5-
cat nums.txt | head -n 2
tail -n 3 seq.txt
head -c 10 seq.txt | od -c | head -2
cut -d' ' -f2 nums.txt | sort -n | uniq -c
tr 'a-z' 'A-Z' <nums.txt | sort | uniq
wc -l <seq.txt
wc -c nums.txt
seq 5 -2 -5 | tr '\n' ' '; echo
date -d @0 -u
date -u -d @1234567890 +%Y-%m-%dT%H:%M:%S
stat -c '%n %s %a %F' nums.txt a
cp nums.txt copy.txt && cmp nums.txt copy.txt && echo "cp identical"
cp -r a acopy && ls -R acopy
mv copy.txt moved.txt && ls moved.txt copy.txt 2>/dev/null; echo "ls status $?"
ln -s nums.txt link.txt && readlink link.txt && cat link.txt | wc -l
ln nums.txt hard.txt && stat -c '%h' nums.txt
chmod 751 moved.txt && stat -c '%a' moved.txt
rm moved.txt hard.txt && ls moved.txt 2>/dev/null || echo "removed"
env -i FOO=bar BAZ=qux env | sort
printf '%05d|%-6s|%x|%.3f\n' 42 ab 255 2.5
expr 7 \* 6; expr length hello; expr 10 / 3
basename /usr/lib/x.so .so; dirname /usr/lib/x.so
realpath a/b/../b/c | sed "s|$d|TMP|"
readlink -f link.txt | sed "s|$d|TMP|"
sha256sum seq.txt nums.txt
md5sum seq.txt
base64 seq.txt | head -2
base64 seq.txt | base64 -d | cmp - seq.txt && echo "base64 round trip"
split -l 20 seq.txt part. && ls part.* && cat part.ab | head -1
paste -d, nums.txt seq.txt | head -3
printf '1 a\n2 b\n3 c\n' >j1; printf '1 x\n3 z\n4 w\n' >j2
join j1 j2
printf 'a\nb\nc\n' >c1; printf 'b\nc\nd\n' >c2
comm c1 c2 | tr '\t' '_'
echo tee-data | tee t1 t2 >/dev/null && cat t1 t2
yes | head -n 4 | tr '\n' ' '; echo
yes abc | head -c 20; echo
mkdir x && rmdir x && echo "mkdir/rmdir"
true > empty && test -s empty || echo "empty file"
cd / && rm -rf "$d"
echo done
