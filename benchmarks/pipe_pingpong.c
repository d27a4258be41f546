/* pipe_pingpong: one byte sent to a child process over a pipe and back over another; the time
 * is per round trip (two writes, two reads, two wake-ups). */
#include "bench.h"
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

struct pp {
	int to_child, from_child;
};

static void op(long iters, void *arg)
{
	struct pp *p = arg;
	char c = 'x';

	for (long i = 0; i < iters; i++) {
		if (write(p->to_child, &c, 1) != 1)
			bench_die("write to child");
		if (read(p->from_child, &c, 1) != 1)
			bench_die("read from child");
	}
}

int main(int argc, char **argv)
{
	int down[2], up[2], status;
	struct pp p;
	pid_t pid;
	char c;

	bench_init(argc, argv);
	if (pipe(down) != 0 || pipe(up) != 0)
		bench_die("pipe");
	pid = fork();
	if (pid < 0)
		bench_die("fork");
	if (pid == 0) {
		close(down[1]);
		close(up[0]);
		/* Echo until the parent closes its end. */
		while (read(down[0], &c, 1) == 1)
			if (write(up[1], &c, 1) != 1)
				_exit(1);
		_exit(0);
	}
	close(down[0]);
	close(up[1]);
	p.to_child = down[1];
	p.from_child = up[0];
	bench_run("pipe_pingpong", "", op, &p);
	close(down[1]);
	if (waitpid(pid, &status, 0) != pid)
		bench_die("waitpid");
	return 0;
}
