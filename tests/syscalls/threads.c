/* threads.c: pthreads (clone3/clone), thread ids, signals to threads, exit of multi-threaded processes. */
#include "sc.h"

#include <pthread.h>
#include <sys/mman.h>

enum { NT = 8 };
static __thread int tls_var = 5;
static int block_pipe[2];

static void *id_thread(void *arg)
{
	long *out = arg;

	tls_var += (int)out[0];
	out[1] = syscall(SYS_gettid);
	out[2] = getpid();
	out[3] = tls_var;
	return (void *)(out[0] * 3);
}

static void test_create_join(void)
{
	pthread_t th[NT];
	long res[NT][4];

	for (int i = 0; i < NT; i++) {
		res[i][0] = i + 1;
		CHECK(pthread_create(&th[i], NULL, id_thread, res[i]) == 0, "pthread_create");
	}
	for (int i = 0; i < NT; i++) {
		void *ret;
		CHECK(pthread_join(th[i], &ret) == 0 && (long)ret == (i + 1) * 3, "join");
		CHECK(res[i][2] == getpid(), "thread getpid");
		CHECK(res[i][1] != getpid(), "thread tid differs from the pid");
		CHECK(res[i][3] == 5 + i + 1, "each thread has its own __thread copy");
		for (int j = 0; j < i; j++)
			CHECK(res[i][1] != res[j][1], "distinct tids");
	}
	CHECK(tls_var == 5, "main's __thread copy untouched");
	ok("%d pthreads: distinct tids, shared pid, own TLS, join values", NT);
}

static void *raw_exit_thread(void *arg)
{
	syscall(SYS_exit, 0); /* this thread only */
	return NULL;
}

static void test_thread_exit(void)
{
	pthread_t th;

	CHECK(pthread_create(&th, NULL, raw_exit_thread, NULL) == 0, "create");
	CHECK(pthread_join(th, NULL) == 0, "join after SYS_exit (CLEARTID wakes the joiner)");
	ok("SYS_exit in a thread ends only that thread");
}

static void *exit_group_thread(void *arg)
{
	msleep(20);
	exit((int)(long)arg); /* exit_group: ends every thread */
}

static void *blocker_thread(void *arg)
{
	char c;
	(void)!read(block_pipe[0], &c, 1);
	return NULL;
}

static void test_exit_group_from_thread(void)
{
	CHECK_OK(pipe(block_pipe));
	pid_t pid = sc_fork();
	if (pid == 0) {
		pthread_t a, b;
		pthread_create(&b, NULL, blocker_thread, NULL);
		pthread_create(&a, NULL, exit_group_thread, (void *)7L);
		char c;
		(void)!read(block_pipe[0], &c, 1); /* main blocks until the group exits */
		_exit(99);
	}
	expect_exit(pid, 7);
	ok("exit() in a secondary thread ends the process with its status (main blocked in read)");

	/* The main thread leaves with pthread_exit; the process lives until the last thread. */
	int p[2];
	CHECK_OK(pipe(p));
	pid = sc_fork();
	if (pid == 0) {
		pthread_t a;
		close(p[0]);
		pthread_create(&a, NULL, exit_group_thread, (void *)5L);
		pthread_exit(NULL);
	}
	close(p[1]);
	expect_exit(pid, 5);
	char c;
	CHECK(read(p[0], &c, 1) == 0, "EOF once every thread is gone");
	close(p[0]);
	close(block_pipe[0]);
	close(block_pipe[1]);
	ok("pthread_exit in main: the process exits with the last thread's exit()");
}

static void test_kill_threaded(void)
{
	static const int sigs[] = { SIGTERM, SIGKILL, SIGSEGV };

	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		int ready[2];
		CHECK_OK(pipe(ready));
		CHECK_OK(pipe(block_pipe));
		pid_t pid = sc_fork();
		if (pid == 0) {
			pthread_t th[3];
			no_core();
			for (int j = 0; j < 3; j++)
				pthread_create(&th[j], NULL, blocker_thread, NULL);
			(void)!write(ready[1], "r", 1);
			if (sigs[i] == SIGSEGV) {
				msleep(10);
				*(volatile int *)(uintptr_t)8 = 1; /* a fault in the main thread */
			}
			char c;
			(void)!read(block_pipe[0], &c, 1);
			_exit(99);
		}
		char c;
		CHECK(read(ready[0], &c, 1) == 1, "ready");
		if (sigs[i] != SIGSEGV)
			CHECK_OK(kill(pid, sigs[i]));
		expect_killed(pid, sigs[i]);
		close(ready[0]);
		close(ready[1]);
		close(block_pipe[0]);
		close(block_pipe[1]);
	}
	ok("SIGTERM, SIGKILL and a fault end every thread of a process");
}

static volatile long handled_tid;

static void record_tid(int sig)
{
	handled_tid = syscall(SYS_gettid);
}

static volatile int stop_spin;
static volatile long spinner_tid;

static void *spinner(void *arg)
{
	spinner_tid = syscall(SYS_gettid);
	while (!stop_spin && !handled_tid)
		msleep(1);
	return NULL;
}

static void test_signals_to_threads(void)
{
	pthread_t th;

	set_handler(SIGUSR1, (void *)record_tid, 0);
	/* tgkill targets one thread. */
	handled_tid = 0;
	stop_spin = 0;
	spinner_tid = 0;
	CHECK(pthread_create(&th, NULL, spinner, NULL) == 0, "create");
	while (!spinner_tid)
		msleep(1);
	CHECK_OK(syscall(SYS_tgkill, getpid(), spinner_tid, SIGUSR1));
	pthread_join(th, NULL);
	CHECK(handled_tid == spinner_tid, "tgkill ran the handler in the target thread");
	CHECK(syscall(SYS_tgkill, getpid() + 100000, spinner_tid, SIGUSR1) == -1 && errno == ESRCH,
	      "tgkill with the wrong tgid: ESRCH");

	/* A process-directed signal goes to a thread that does not block it. */
	handled_tid = 0;
	spinner_tid = 0;
	CHECK(pthread_create(&th, NULL, spinner, NULL) == 0, "create"); /* inherits: unblocked */
	while (!spinner_tid)
		msleep(1);
	block(SIGUSR1); /* in the main thread only */
	CHECK_OK(kill(getpid(), SIGUSR1));
	pthread_join(th, NULL);
	CHECK(handled_tid == spinner_tid, "kill() delivered to the only thread not blocking it");
	unblock(SIGUSR1);
	set_disposition(SIGUSR1, SIG_DFL);
	ok("tgkill reaches its thread; kill() reaches a thread that does not block the signal");
}

int main(void)
{
	test_create_join();
	test_thread_exit();
	test_exit_group_from_thread();
	test_kill_threaded();
	test_signals_to_threads();
	return 0;
}
