/* sigmask.c: rt_sigprocmask, rt_sigpending, standard vs real-time queueing, delivery order. */
#include "sc.h"

static volatile int order[64], norder;
static volatile int rt_values[16], nvalues;

static void record(int sig, siginfo_t *si, void *uc)
{
	if (norder < 64)
		order[norder++] = sig;
	if (si->si_code == SI_QUEUE && nvalues < 16)
		rt_values[nvalues++] = si->si_value.sival_int;
}

static void test_procmask(void)
{
	sigset_t set, old, cur;

	sigemptyset(&set);
	CHECK_OK(sigprocmask(SIG_SETMASK, &set, &old));
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGRTMIN + 2);
	CHECK_OK(sigprocmask(SIG_BLOCK, &set, &old));
	CHECK(sigisemptyset(&old), "old mask empty");
	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	CHECK_OK(sigprocmask(SIG_BLOCK, &set, &old));
	CHECK(sigismember(&old, SIGUSR1) && !sigismember(&old, SIGHUP), "old mask before block");
	CHECK_OK(sigprocmask(SIG_UNBLOCK, &set, NULL));
	sigprocmask(SIG_SETMASK, NULL, &cur);
	CHECK(sigismember(&cur, SIGUSR1) && sigismember(&cur, SIGRTMIN + 2) &&
		      !sigismember(&cur, SIGHUP),
	      "BLOCK/UNBLOCK");
	/* SIGKILL and SIGSTOP cannot be blocked: silently dropped from the set. */
	sigfillset(&set);
	CHECK_OK(sigprocmask(SIG_SETMASK, &set, NULL));
	sigprocmask(SIG_SETMASK, NULL, &cur);
	CHECK(!sigismember(&cur, SIGKILL) && !sigismember(&cur, SIGSTOP) &&
		      sigismember(&cur, SIGTERM) && sigismember(&cur, SIGRTMAX),
	      "SIGKILL/SIGSTOP never blocked");
	sigemptyset(&set);
	CHECK_OK(sigprocmask(SIG_SETMASK, &set, NULL));

	CHECK(raw(SYS_rt_sigprocmask, 99, (long)&set, 0, 8, 0, 0) == -EINVAL, "bad how");
	CHECK(raw(SYS_rt_sigprocmask, SIG_BLOCK, (long)&set, 0, 4, 0, 0) == -EINVAL,
	      "bad sigsetsize");
	CHECK(raw(SYS_rt_sigprocmask, SIG_BLOCK, 8, 0, 8, 0, 0) == -EFAULT, "bad set pointer");
	/* A NULL set ignores how (even a bad one) and just reads. */
	CHECK(raw(SYS_rt_sigprocmask, 99, 0, (long)&old, 8, 0, 0) == 0, "NULL set, bad how");
	ok("rt_sigprocmask: BLOCK/UNBLOCK/SETMASK, old mask, KILL/STOP unblockable, errors");
}

static void test_pending(void)
{
	sigset_t pend;

	set_handler(SIGUSR1, (void *)record, SA_SIGINFO);
	block(SIGUSR1);
	norder = 0;
	raise(SIGUSR1);
	raise(SIGUSR1);
	CHECK(norder == 0, "blocked: not delivered");
	CHECK_OK(sigpending(&pend));
	CHECK(sigismember(&pend, SIGUSR1) && !sigismember(&pend, SIGUSR2), "sigpending");
	CHECK(raw(SYS_rt_sigpending, (long)&pend, 16, 0, 0, 0, 0) == -EINVAL, "size above 8");
	CHECK(raw(SYS_rt_sigpending, 8, 8, 0, 0, 0, 0) == -EFAULT, "bad pointer");
	unblock(SIGUSR1); /* delivered before sigprocmask returns */
	CHECK(norder == 1, "a standard signal is not queued twice: %d deliveries", norder);
	CHECK_OK(sigpending(&pend));
	CHECK(!sigismember(&pend, SIGUSR1), "no longer pending");
	ok("blocked signals pend; rt_sigpending; standard signals do not queue");
}

static void test_rt_queue_and_order(void)
{
	sigset_t set;
	int rt = SIGRTMIN + 1;

	/* Each handler blocks everything, so they run one after the other in dequeue order
	 * (otherwise the next pending signal interrupts the handler before its first line). */
	struct sigaction sa = { .sa_sigaction = record, .sa_flags = SA_SIGINFO };
	sigfillset(&sa.sa_mask);
	CHECK_OK(sigaction(rt, &sa, NULL));
	CHECK_OK(sigaction(rt + 3, &sa, NULL));
	CHECK_OK(sigaction(SIGUSR2, &sa, NULL));
	CHECK_OK(sigaction(SIGHUP, &sa, NULL));
	sigfillset(&set);
	sigprocmask(SIG_BLOCK, &set, NULL);
	norder = nvalues = 0;
	for (int i = 0; i < 3; i++) {
		union sigval v = { .sival_int = 100 + i };
		CHECK_OK(sigqueue(getpid(), rt + 3, v));
		v.sival_int = 200 + i;
		CHECK_OK(sigqueue(getpid(), rt, v));
	}
	raise(SIGUSR2);
	raise(SIGHUP);
	sigemptyset(&set);
	sigprocmask(SIG_SETMASK, &set, NULL);
	/* Linux delivers the lowest-numbered pending signal first. */
	int want[] = { SIGHUP, SIGUSR2, rt, rt, rt, rt + 3, rt + 3, rt + 3 };
	CHECK(norder == 8, "8 deliveries, got %d", norder);
	for (int i = 0; i < 8; i++)
		CHECK(order[i] == want[i], "delivery %d: %d, want %d", i, order[i], want[i]);
	int wantv[] = { 200, 201, 202, 100, 101, 102 };
	CHECK(nvalues == 6, "values %d", nvalues);
	for (int i = 0; i < 6; i++)
		CHECK(rt_values[i] == wantv[i], "value %d: %d", i, rt_values[i]);
	ok("real-time signals queue with their values, in order; lowest signal number first");
}

static void test_fork_mask(void)
{
	block(SIGUSR2);
	raise(SIGUSR2); /* pending in the parent only */
	pid_t pid = sc_fork();
	if (pid == 0) {
		sigset_t cur, pend;
		sigprocmask(SIG_SETMASK, NULL, &cur);
		sigpending(&pend);
		_exit(sigismember(&cur, SIGUSR2) && !sigismember(&pend, SIGUSR2) ? 0 : 1);
	}
	expect_exit(pid, 0);
	set_disposition(SIGUSR2, SIG_IGN); /* drop it */
	unblock(SIGUSR2);
	ok("fork: the child inherits the mask, not the pending signals");
}

int main(void)
{
	test_procmask();
	test_pending();
	test_rt_queue_and_order();
	test_fork_mask();
	return 0;
}
