/* getpid: the cost of the cheapest system call, getpid(2) made with syscall(2) (no libc cache). */
#include "bench.h"
#include <sys/syscall.h>
#include <unistd.h>

static void op(long iters, void *arg)
{
	for (long i = 0; i < iters; i++)
		syscall(SYS_getpid);
}

int main(int argc, char **argv)
{
	bench_init(argc, argv);
	bench_run("getpid", "", op, NULL);
	return 0;
}
