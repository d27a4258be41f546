/* fork_wait: fork(2) of this small static process, the child _exit(0)s, the parent waitpid(2)s. */
#include "bench.h"
#include <sys/wait.h>
#include <unistd.h>

static void op(long iters, void *arg)
{
	int status;

	for (long i = 0; i < iters; i++) {
		pid_t pid = fork();

		if (pid < 0)
			bench_die("fork");
		if (pid == 0)
			_exit(0);
		if (waitpid(pid, &status, 0) != pid)
			bench_die("waitpid");
		if (status != 0) {
			fprintf(stderr, "bench: child status 0x%x\n", status);
			exit(1);
		}
	}
}

int main(int argc, char **argv)
{
	bench_init(argc, argv);
	bench_run("fork_wait", "", op, NULL);
	return 0;
}
