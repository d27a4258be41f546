#!/bin/bash
# gcc_build.sh: gcc compiles two C files and links them (cc1, as, collect2, ld: many processes) in
# a temp dir, then runs the result; also a one-step compile-and-link, the preprocessor alone, a
# shared library loaded with dlopen, a static link, -pipe and link-time optimisation.
set -e
d=$(mktemp -d /tmp/rt-gcc.XXXXXX)
trap 'rm -rf "$d"' EXIT
cd "$d"
cat >util.h <<'C'
#define SQUARE(x) ((x) * (x))
unsigned long fib(unsigned n);
C
cat >util.c <<'C'
#include "util.h"
unsigned long fib(unsigned n) { return n < 2 ? n : fib(n - 1) + fib(n - 2); }
C
cat >main.c <<'C'
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "util.h"
int main(int argc, char **argv) {
	char buf[64];
	snprintf(buf, sizeof buf, "%s:%d", argc > 1 ? argv[1] : "none", SQUARE(7));
	printf("hello from gcc: %s fib(20)=%lu len=%zu\n", buf, fib(20), strlen(buf));
	return argc > 2 ? atoi(argv[2]) : 0;
}
C
gcc -O2 -Wall -c util.c -o util.o
gcc -O2 -Wall -c main.c -o main.o
gcc -o prog main.o util.o
./prog arg; echo "status $?"
./prog arg 7 || echo "status $?"
gcc -O0 -g -o prog2 main.c util.c
./prog2 second
gcc -E -P -DSQUARE_TEST main.c | grep -c 'printf' | sed 's/^/printf lines after cpp: /'
cat >lib.c <<'C'
int triple(int x) { return 3 * x; }
C
cat >dl.c <<'C'
#include <dlfcn.h>
#include <stdio.h>
int triple(int);
int main(void) {
	void *h = dlopen("./libtri.so", RTLD_NOW);
	if (!h) {
		printf("dlopen: %s\n", dlerror());
		return 1;
	}
	int (*f)(int) = (int (*)(int))dlsym(h, "triple");
	printf("dlsym triple(14)=%d, linked triple(5)=%d\n", f(14), triple(5));
	return dlclose(h);
}
C
gcc -pipe -fPIC -shared -o libtri.so lib.c
# shellcheck disable=SC2016 # $ORIGIN is for the dynamic linker
gcc -pipe -O2 -o dl dl.c -L. -ltri -Wl,-rpath,'$ORIGIN' -ldl
./dl
gcc -static -O2 -o static main.c util.c
./static static
gcc -flto -O2 -o lto main.c util.c
./lto lto
rm -f util.o main.o
gcc -save-temps -c util.c
ls
echo "done"
