/* mmap_touch: mmap(2) of one anonymous private page, a write to it (a page fault), munmap(2). */
#include "bench.h"
#include <sys/mman.h>

static void op(long iters, void *arg)
{
	for (long i = 0; i < iters; i++) {
		volatile char *p =
			mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		if (p == MAP_FAILED)
			bench_die("mmap");
		p[0] = 1;
		if (munmap((void *)p, 4096) != 0)
			bench_die("munmap");
	}
}

int main(int argc, char **argv)
{
	bench_init(argc, argv);
	bench_run("mmap_touch", "", op, NULL);
	return 0;
}
