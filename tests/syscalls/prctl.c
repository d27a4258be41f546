/* prctl.c: PR_SET_NAME/PR_GET_NAME (and /proc comm), PR_SET_PDEATHSIG, PR_GET_DUMPABLE, errors. */
#include "sc.h"

#include <libgen.h>
#include <pthread.h>
#include <sys/prctl.h>

static void test_name(const char *argv0)
{
	char name[32], want[32], comm[64];

	/* Initially the basename of the executed file, at most 15 bytes. */
	memset(name, 'x', sizeof(name));
	CHECK_OK(prctl(PR_GET_NAME, name, 0, 0, 0));
	snprintf(want, 16, "%s", basename((char *)argv0));
	CHECK(!strcmp(name, want), "initial name %s, want %s", name, want);

	CHECK_OK(prctl(PR_SET_NAME, "short", 0, 0, 0));
	CHECK_OK(prctl(PR_GET_NAME, name, 0, 0, 0));
	CHECK(!strcmp(name, "short"), "name %s", name);
	read_file("/proc/self/comm", comm, sizeof(comm));
	CHECK(!strcmp(comm, "short\n"), "/proc/self/comm %s", comm);

	/* Longer names are cut to 15 bytes plus NUL. */
	CHECK_OK(prctl(PR_SET_NAME, "0123456789abcdefghij", 0, 0, 0));
	memset(name, 'x', sizeof(name));
	CHECK_OK(prctl(PR_GET_NAME, name, 0, 0, 0));
	CHECK(!strcmp(name, "0123456789abcde"), "truncated name %s", name);
	CHECK(name[15] == 0 && name[16] == 'x', "GET_NAME writes 16 bytes");

	/* Writing /proc/self/comm renames too. */
	int fd = (int)CHECK_OK(open("/proc/self/comm", O_WRONLY));
	CHECK(write(fd, "viaproc", 7) == 7, "write comm");
	close(fd);
	CHECK_OK(prctl(PR_GET_NAME, name, 0, 0, 0));
	CHECK(!strcmp(name, "viaproc"), "name after writing comm: %s", name);

	/* A forked child inherits the name. */
	pid_t pid = sc_fork();
	if (pid == 0) {
		char n[32];
		prctl(PR_GET_NAME, n, 0, 0, 0);
		_exit(strcmp(n, "viaproc") ? 1 : 0);
	}
	expect_exit(pid, 0);
	CHECK_ERR(prctl(PR_SET_NAME, (char *)8, 0, 0, 0), EFAULT);
	ok("PR_SET_NAME/PR_GET_NAME: exec name, 15-byte limit, /proc/self/comm, inherited");
}

static void *thread_name(void *arg)
{
	char n[32];

	prctl(PR_SET_NAME, "worker", 0, 0, 0);
	prctl(PR_GET_NAME, n, 0, 0, 0);
	return (void *)(long)!strcmp(n, "worker");
}

static void test_thread_name(void)
{
	pthread_t th;
	void *ret;
	char name[32];

	CHECK_OK(prctl(PR_SET_NAME, "main", 0, 0, 0));
	CHECK(pthread_create(&th, NULL, thread_name, NULL) == 0, "create");
	pthread_join(th, &ret);
	CHECK(ret == (void *)1, "thread's name");
	CHECK_OK(prctl(PR_GET_NAME, name, 0, 0, 0));
	CHECK(!strcmp(name, "main"), "the name is per thread: %s", name);
	ok("PR_SET_NAME names only the calling thread");
}

static volatile sig_atomic_t got_sig;
static void on_usr1(int sig)
{
	got_sig = sig;
}

static void test_pdeathsig(void)
{
	int report[2], ready[2];

	CHECK_OK(pipe(report));
	CHECK_OK(pipe(ready));
	pid_t mid = sc_fork();
	if (mid == 0) {
		pid_t g = sc_fork();
		if (g == 0) {
			int sig = -1;
			set_handler(SIGUSR1, (void *)on_usr1, 0);
			block(SIGUSR1);
			CHECK_OK(prctl(PR_SET_PDEATHSIG, SIGUSR1, 0, 0, 0));
			CHECK_OK(prctl(PR_GET_PDEATHSIG, &sig, 0, 0, 0));
			CHECK(sig == SIGUSR1, "PR_GET_PDEATHSIG %d", sig);
			/* A fork child does not inherit the setting. */
			pid_t gg = sc_fork();
			if (gg == 0) {
				int s = -1;
				prctl(PR_GET_PDEATHSIG, &s, 0, 0, 0);
				_exit(s == 0 ? 0 : 1);
			}
			expect_exit(gg, 0);
			(void)!write(ready[1], "r", 1);
			/* Our parent exits now: we get SIGUSR1. */
			sigset_t s;
			sigemptyset(&s);
			sigaddset(&s, SIGUSR1);
			siginfo_t si;
			struct timespec to = { 10, 0 };
			int r = sigtimedwait(&s, &si, &to);
			int res = r == SIGUSR1 ? 1 : 0;
			(void)!write(report[1], &res, sizeof(res));
			_exit(0);
		}
		char c;
		CHECK(read(ready[0], &c, 1) == 1, "ready");
		_exit(0);
	}
	expect_exit(mid, 0);
	int res = 0;
	CHECK(read(report[0], &res, sizeof(res)) == sizeof(res), "report");
	CHECK(res == 1, "the parent's death sent PR_SET_PDEATHSIG's signal");
	/* The grandchild was reparented to our reaper or beyond; it exits on its own. */
	close(report[0]);
	close(report[1]);
	close(ready[0]);
	close(ready[1]);
	ok("PR_SET_PDEATHSIG: signal on the parent's exit; cleared in fork children");
}

static void test_misc(void)
{
	CHECK(prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) == 1, "dumpable by default");
	CHECK_ERR(prctl(PR_SET_PDEATHSIG, 65, 0, 0, 0), EINVAL);
	CHECK_ERR(prctl(0x7fff1234, 0, 0, 0, 0), EINVAL);
	ok("PR_GET_DUMPABLE is 1; EINVAL for a bad signal or option");
}

int main(int argc, char **argv)
{
	test_name(argv[0]);
	test_thread_name();
	test_pdeathsig();
	test_misc();
	return 0;
}
