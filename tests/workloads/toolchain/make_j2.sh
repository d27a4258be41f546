#!/bin/bash
# make_j2.sh: make -j2 builds a small generated project in a temp dir (six C files, a header they
# all depend on, a generated source, a static library), runs it, then rebuilds only what a touched
# file needs and checks the up-to-date case.
set -e
d=$(mktemp -d /tmp/rt-make.XXXXXX)
trap 'rm -rf "$d"' EXIT
cd "$d"
for i in 1 2 3 4 5 6; do
	printf '#include "common.h"\nint part%d(int x) { return x * %d + BASE; }\n' "$i" "$i" >"part$i.c"
done
printf '#define BASE 100\nint part1(int), part2(int), part3(int), part4(int), part5(int), part6(int);\nint gen(void);\n' >common.h
cat >main.c <<'C'
#include <stdio.h>
#include "common.h"
int main(void) {
	printf("sum %d gen %d\n", part1(1) + part2(2) + part3(3) + part4(4) + part5(5) + part6(6), gen());
	return 0;
}
C
cat >Makefile <<'MK'
CC = gcc
CFLAGS = -O1 -Wall
LIBOBJS = part1.o part2.o part3.o part4.o part5.o part6.o gen.o
prog: main.o libparts.a
	$(CC) -o $@ main.o -L. -lparts
libparts.a: $(LIBOBJS)
	ar rcs $@ $^
%.o: %.c common.h
	$(CC) $(CFLAGS) -c $< -o $@
gen.c: Makefile
	printf 'int gen(void) { return %d; }\n' $$(echo $(LIBOBJS) | wc -w) >$@
clean:
	rm -f *.o *.a prog gen.c
.PHONY: clean
MK
make -s -j2
./prog
make -j2 | sed 's/^make\[[0-9]*\]/make/'
touch -d '2000-01-01' part3.c && touch part3.c
make -j2 | sort
./prog
sed -i 's/BASE 100/BASE 1000/' common.h
make -s -j2 && ./prog
make -s clean && ls
echo "done"
