/* read_4k: pread(2) of 4 KiB at offset 0 of a host file (this program's own binary, which argv[0]
 * names: benchmarks/run.sh passes an absolute path), so the data comes from the page cache. */
#include "bench.h"
#include <fcntl.h>
#include <unistd.h>

static void op(long iters, void *arg)
{
	static char buf[4096];
	int fd = *(int *)arg;

	for (long i = 0; i < iters; i++)
		if (pread(fd, buf, sizeof(buf), 0) != (ssize_t)sizeof(buf))
			bench_die("pread");
}

int main(int argc, char **argv)
{
	int fd;

	bench_init(argc, argv);
	fd = open(argv[0], O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		bench_die(argv[0]);
	bench_run("read_4k", "", op, &fd);
	return 0;
}
