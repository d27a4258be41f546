/* compute_syscall: ~1 ms of work over a 4 MiB buffer (a stride through it, as a program
 * walking its heap does), then one getppid(2). What a system call costs a program that computes
 * between calls: the call itself, and whatever the hand-off does to the program's caches and
 * TLB (another address space on its CPU, or a move to another CPU). */
#include "bench.h"
#include <unistd.h>

#define BUF_SIZE (4 << 20)
#define STEPS 1000000L /* ~1 ms here natively */

static unsigned char *buf;
static volatile unsigned long sink;

static void op(long iters, void *arg)
{
	for (long i = 0; i < iters; i++) {
		unsigned long h = 1469598103934665603UL;
		for (long j = 0; j < STEPS; j++) {
			h ^= buf[(j * 4099) & (BUF_SIZE - 1)];
			h *= 1099511628211UL;
		}
		sink += h;
		getppid();
	}
}

int main(int argc, char **argv)
{
	bench_init(argc, argv);
	if (!(buf = malloc(BUF_SIZE)))
		bench_die("malloc");
	for (long i = 0; i < BUF_SIZE; i++)
		buf[i] = (unsigned char)i;
	bench_run("compute_syscall", "", op, NULL);
	return 0;
}
