/* stat: stat(2) of /etc/passwd, a path walk of two components and the file's attributes. */
#include "bench.h"
#include <sys/stat.h>

static void op(long iters, void *arg)
{
	struct stat st;

	for (long i = 0; i < iters; i++)
		if (stat("/etc/passwd", &st) != 0)
			bench_die("stat /etc/passwd");
}

int main(int argc, char **argv)
{
	bench_init(argc, argv);
	bench_run("stat", "", op, NULL);
	return 0;
}
