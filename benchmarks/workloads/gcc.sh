#!/bin/sh
# gcc.sh: the gcc workload of benchmarks/run.sh: gcc compiles and links one small C file (the
# driver, cc1, as, collect2, ld: five processes and the C headers and libraries they read) into a
# temp dir, then runs the program. Prints its output; exits 0.
set -e
d=$(mktemp -d /tmp/runsc-c-bench-gcc.XXXXXX)
trap 'rm -rf "$d"' EXIT
cat >"$d/hello.c" <<'C'
#include <stdio.h>
#include <string.h>
static unsigned long fib(unsigned n) { return n < 2 ? n : fib(n - 1) + fib(n - 2); }
int main(void) {
	char buf[64];
	snprintf(buf, sizeof buf, "fib(20)=%lu", fib(20));
	printf("%s len=%zu\n", buf, strlen(buf));
	return 0;
}
C
gcc -O2 -Wall -o "$d/hello" "$d/hello.c"
"$d/hello"
