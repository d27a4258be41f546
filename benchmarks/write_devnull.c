/* write_devnull: write(2) of 4 KiB to /dev/null. */
#include "bench.h"
#include <fcntl.h>
#include <unistd.h>

static void op(long iters, void *arg)
{
	static char buf[4096];
	int fd = *(int *)arg;

	for (long i = 0; i < iters; i++)
		if (write(fd, buf, sizeof(buf)) != (ssize_t)sizeof(buf))
			bench_die("write /dev/null");
}

int main(int argc, char **argv)
{
	int fd;

	bench_init(argc, argv);
	fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		bench_die("/dev/null");
	bench_run("write_devnull", "", op, &fd);
	return 0;
}
