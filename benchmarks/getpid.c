/* getpid: the cost of the cheapest system call. "getpid" calls libc's getpid(), a
 * `mov $39,%eax; syscall` site (glibc caches nothing since 2.25), which syscall patching can
 * rewrite; "getpid_syscall" goes through syscall(2), whose `mov %rdi,%rax ... syscall` it
 * cannot, so that row is always the trap path. */
#include "bench.h"
#include <sys/syscall.h>
#include <unistd.h>

static void op_libc(long iters, void *arg)
{
	for (long i = 0; i < iters; i++)
		getpid();
}

static void op_syscall(long iters, void *arg)
{
	for (long i = 0; i < iters; i++)
		syscall(SYS_getpid);
}

int main(int argc, char **argv)
{
	bench_init(argc, argv);
	bench_run("getpid", "", op_libc, NULL);
	bench_run("getpid_syscall", "", op_syscall, NULL);
	return 0;
}
