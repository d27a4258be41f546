/* fork_exec: fork(2), execve(2) of /bin/true (Debian's: dynamic, so ld.so and libc are loaded
 * too), waitpid(2). */
#include "bench.h"
#include <sys/wait.h>
#include <unistd.h>

static void op(long iters, void *arg)
{
	static char *const argv[] = {"true", NULL};
	static char *const envp[] = {"PATH=/usr/bin:/bin", NULL};
	int status;

	for (long i = 0; i < iters; i++) {
		pid_t pid = fork();

		if (pid < 0)
			bench_die("fork");
		if (pid == 0) {
			execve("/bin/true", argv, envp);
			_exit(127);
		}
		if (waitpid(pid, &status, 0) != pid)
			bench_die("waitpid");
		if (status != 0) {
			fprintf(stderr, "bench: /bin/true ended with status 0x%x\n", status);
			exit(1);
		}
	}
}

int main(int argc, char **argv)
{
	bench_init(argc, argv);
	bench_run("fork_exec", "", op, NULL);
	return 0;
}
