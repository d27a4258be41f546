/* kill.c: kill, tkill, tgkill, rt_sigqueueinfo, rt_tgsigqueueinfo: targets, siginfo, errors. */
#include "sc.h"

#include <pthread.h>

static volatile int hits, last_code, last_value, last_tid;
static volatile pid_t last_pid;

static void on_sig(int sig, siginfo_t *si, void *uc)
{
	last_code = si->si_code;
	last_pid = si->si_pid;
	last_value = si->si_value.sival_int;
	last_tid = (int)syscall(SYS_gettid);
	/* last: a thread polling hits must see the fields above already written */
	__atomic_fetch_add(&hits, 1, __ATOMIC_RELEASE);
}

static pid_t dead_pid(void)
{
	pid_t pid = sc_fork();

	if (pid == 0)
		_exit(0);
	sc_wait(pid);
	return pid;
}

static void test_kill(void)
{
	set_handler(SIGUSR1, (void *)on_sig, SA_SIGINFO);
	CHECK_OK(kill(getpid(), 0));
	CHECK_ERR(kill(dead_pid(), 0), ESRCH);
	CHECK_ERR(kill(getpid(), 65), EINVAL);
	CHECK_ERR(kill(getpid(), -1), EINVAL);
	hits = 0;
	CHECK_OK(kill(getpid(), SIGUSR1));
	CHECK(hits == 1 && last_code == SI_USER && last_pid == getpid(), "kill self");
	ok("kill: 0 probes, ESRCH, EINVAL, SI_USER delivery to self");
}

static volatile int stop_thread;
static volatile pid_t worker_tid;
static void *worker(void *arg)
{
	worker_tid = (pid_t)syscall(SYS_gettid);
	while (!stop_thread)
		msleep(1);
	return NULL;
}

static void test_thread_targets(void)
{
	pthread_t th;

	stop_thread = 0;
	worker_tid = 0;
	CHECK(pthread_create(&th, NULL, worker, NULL) == 0, "create");
	while (!worker_tid)
		msleep(1);
	pid_t tid = worker_tid;

	/* tkill and tgkill deliver to that very thread. */
	hits = 0;
	CHECK_OK(syscall(SYS_tkill, tid, SIGUSR1));
	while (hits < 1)
		msleep(1);
	CHECK(last_tid == tid && last_code == SI_TKILL, "tkill: thread %d code %d", last_tid == tid,
	      last_code);
	CHECK_OK(syscall(SYS_tgkill, getpid(), tid, SIGUSR1));
	while (hits < 2)
		msleep(1);
	CHECK(last_tid == tid && last_code == SI_TKILL, "tgkill");
	/* kill() with a thread's id signals its process. */
	CHECK_OK(kill(tid, 0));
	CHECK_OK(kill(tid, SIGUSR1));
	while (hits < 3)
		msleep(1);
	CHECK(last_code == SI_USER, "kill(tid) is a process signal");

	CHECK(raw(SYS_tkill, 0, SIGUSR1, 0, 0, 0, 0) == -EINVAL, "tkill(0)");
	CHECK(raw(SYS_tgkill, 0, tid, SIGUSR1, 0, 0, 0) == -EINVAL, "tgkill tgid 0");
	CHECK(raw(SYS_tgkill, getpid(), -1, SIGUSR1, 0, 0, 0) == -EINVAL, "tgkill tid -1");
	CHECK(raw(SYS_tgkill, getpid(), tid, 99, 0, 0, 0) == -EINVAL, "tgkill bad signal");
	pid_t dead = dead_pid();
	CHECK(raw(SYS_tgkill, getpid(), dead, SIGUSR1, 0, 0, 0) == -ESRCH, "tgkill dead tid");
	CHECK(raw(SYS_tgkill, dead, tid, SIGUSR1, 0, 0, 0) == -ESRCH, "tgkill wrong tgid");
	CHECK(raw(SYS_tkill, dead, SIGUSR1, 0, 0, 0, 0) == -ESRCH, "tkill dead");

	/* rt_tgsigqueueinfo to the thread. */
	siginfo_t si;
	memset(&si, 0, sizeof(si));
	si.si_signo = SIGUSR1;
	si.si_code = SI_QUEUE;
	si.si_pid = getpid();
	si.si_uid = getuid();
	si.si_value.sival_int = 4321;
	CHECK_OK(syscall(SYS_rt_tgsigqueueinfo, getpid(), tid, SIGUSR1, &si));
	while (hits < 4)
		msleep(1);
	CHECK(last_tid == tid && last_code == SI_QUEUE && last_value == 4321, "rt_tgsigqueueinfo");
	stop_thread = 1;
	pthread_join(th, NULL);
	ok("tkill/tgkill/rt_tgsigqueueinfo reach the thread (SI_TKILL); kill(tid) the process");
	ok("tkill/tgkill errors: EINVAL for ids <= 0 and bad signals, ESRCH for dead ids");
}

static void test_sigqueueinfo(void)
{
	siginfo_t si;

	memset(&si, 0, sizeof(si));
	si.si_signo = SIGUSR1;
	si.si_code = SI_QUEUE;
	si.si_value.sival_int = 99;
	si.si_pid = getpid();
	hits = 0;
	CHECK_OK(syscall(SYS_rt_sigqueueinfo, getpid(), SIGUSR1, &si));
	CHECK(hits == 1 && last_code == SI_QUEUE && last_value == 99, "rt_sigqueueinfo to self");

	/* Another process may not forge kernel or kill() codes (si_code >= 0, or SI_TKILL). */
	pid_t parent = getpid();
	pid_t pid = sc_fork();
	if (pid == 0) {
		siginfo_t s2;
		memset(&s2, 0, sizeof(s2));
		s2.si_signo = SIGUSR1;
		s2.si_code = SI_USER;
		int a = raw(SYS_rt_sigqueueinfo, parent, SIGUSR1, (long)&s2, 0, 0, 0) == -EPERM;
		s2.si_code = SI_TKILL;
		int b = raw(SYS_rt_sigqueueinfo, parent, SIGUSR1, (long)&s2, 0, 0, 0) == -EPERM;
		s2.si_code = SI_QUEUE;
		s2.si_value.sival_int = 5;
		s2.si_pid = getpid(); /* the caller's siginfo is delivered as given */
		int c = raw(SYS_rt_sigqueueinfo, parent, SIGUSR1, (long)&s2, 0, 0, 0) == 0;
		_exit(a && b && c ? 0 : 1);
	}
	expect_exit(pid, 0);
	CHECK(hits == 2 && last_code == SI_QUEUE && last_value == 5 && last_pid == pid,
	      "the child's SI_QUEUE signal: hits %d", hits);
	CHECK(raw(SYS_rt_sigqueueinfo, getpid(), 70, (long)&si, 0, 0, 0) == -EINVAL, "bad signal");
	CHECK(raw(SYS_rt_sigqueueinfo, dead_pid(), SIGUSR1, (long)&si, 0, 0, 0) == -ESRCH, "dead");
	CHECK(raw(SYS_rt_sigqueueinfo, getpid(), SIGUSR1, 8, 0, 0, 0) == -EFAULT, "bad pointer");
	ok("rt_sigqueueinfo: si_value delivered; EPERM for forged codes; EINVAL, ESRCH, EFAULT");
}

int main(void)
{
	test_kill();
	test_thread_targets();
	test_sigqueueinfo();
	return 0;
}
