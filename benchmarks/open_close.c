/* open_close: open(2) of /etc/passwd read-only then close(2): a path walk of two components on
 * the host's root file system (through the gofer, in runsc-c). */
#include "bench.h"
#include <fcntl.h>
#include <unistd.h>

static void op(long iters, void *arg)
{
	for (long i = 0; i < iters; i++) {
		int fd = open("/etc/passwd", O_RDONLY | O_CLOEXEC);

		if (fd < 0)
			bench_die("open /etc/passwd");
		close(fd);
	}
}

int main(int argc, char **argv)
{
	bench_init(argc, argv);
	bench_run("open_close", "", op, NULL);
	return 0;
}
