/* clock_gettime: clock_gettime(CLOCK_MONOTONIC) through libc, so through the vDSO where the
 * kernel (or the sandbox) provides one, and a system call where it does not. */
#include "bench.h"

static void op(long iters, void *arg)
{
	struct timespec ts;

	for (long i = 0; i < iters; i++)
		if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
			bench_die("clock_gettime");
}

int main(int argc, char **argv)
{
	bench_init(argc, argv);
	bench_run("clock_gettime", "", op, NULL);
	return 0;
}
