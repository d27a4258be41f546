#!/bin/bash
# make_j2.sh: make -j2 builds a small generated project in a temp dir (six C files, a header they
# all depend on, a generated source, a static library), runs it, then rebuilds only what a touched
# file needs and checks the up-to-date case; then a recursive make over two directories sharing the
# jobserver, with dependency files from gcc -MMD, and make -k past a failing target (status 2).
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
# Everything built in the past, then part3.c now: the rebuild does not hang on the clock's tick.
touch -d @1000000000 ./*
touch part3.c
make -j2 | sort
./prog
sed -i 's/BASE 100/BASE 1000/' common.h
make -s -j2 && ./prog
make -s clean && ls
mkdir a b
for s in a b; do
	for i in 1 2 3 4; do printf '#include "%s.h"\nint %s%d(void) { return N * %d; }\n' "$s" "$s" "$i" "$i" >"$s/$s$i.c"; done
	printf '#define N 3\n' >"$s/$s.h"
	# shellcheck disable=SC2016 # make's $(...), not the shell's
	printf 'OBJS = $(patsubst %%.c,%%.o,$(wildcard *.c))\nlib%s.a: $(OBJS)\n\tar rcs $@ $^\n%%.o: %%.c\n\t$(CC) -MMD -MP -c $< -o $@\n-include $(OBJS:.o=.d)\n' "$s" >"$s/Makefile"
done
cat >top.mk <<'MK'
all: sub-a sub-b
	@echo built $(words $(wildcard */*.o)) objects
sub-%:
	+$(MAKE) -s -C $*
fail:
	false
after:
	@echo after the failure
.PHONY: all fail after
MK
make -s -j2 -f top.mk 2>&1 | sed 's/make\[[0-9]*\]/make/'
find b -exec touch -d @1000000000 {} +
sed -i 's/N 3/N 4/' b/b.h
make -j2 -C b | grep -c 'c -o' | sed 's/^/rebuilt after the header changed: /'
find a b -name '*.d' | wc -l
make -k -f top.mk fail after 2>/dev/null || echo "make -k status $?"
echo "done"
