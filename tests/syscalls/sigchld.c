/* sigchld.c: SIGCHLD delivery and siginfo (exited, killed, stopped, continued), SA_NOCLDSTOP,
 * SA_NOCLDWAIT and SIG_IGN auto-reaping. */
#include "sc.h"

static volatile int nchld, codes[16], statuses[16];
static volatile pid_t pids[16];

static void on_chld(int sig, siginfo_t *si, void *uc)
{
	if (nchld < 16) {
		codes[nchld] = si->si_code;
		statuses[nchld] = si->si_status;
		pids[nchld] = si->si_pid;
		nchld++;
	}
}

/* Waits (sigsuspend with SIGCHLD unblocked) until n SIGCHLDs were handled. */
static void wait_chld(int n)
{
	sigset_t m;

	sigprocmask(SIG_SETMASK, NULL, &m);
	sigdelset(&m, SIGCHLD);
	long t0 = now_ms();
	while (nchld < n && now_ms() - t0 < 10000)
		sigsuspend(&m);
	CHECK(nchld >= n, "%d SIGCHLDs, want %d", nchld, n);
}

static void test_infos(void)
{
	set_handler(SIGCHLD, (void *)on_chld, SA_SIGINFO | SA_RESTART);
	block(SIGCHLD);
	nchld = 0;
	pid_t a = sc_fork();
	if (a == 0)
		_exit(12);
	wait_chld(1);
	CHECK(codes[0] == CLD_EXITED && statuses[0] == 12 && pids[0] == a, "exited: %d %d",
	      codes[0], statuses[0]);
	expect_exit(a, 12);

	int p[2];
	CHECK_OK(pipe(p));
	pid_t b = sc_fork();
	if (b == 0) {
		char c;
		close(p[1]);
		(void)!read(p[0], &c, 1);
		_exit(0);
	}
	close(p[0]);
	CHECK_OK(kill(b, SIGSTOP));
	wait_chld(2);
	CHECK(codes[1] == CLD_STOPPED && statuses[1] == SIGSTOP && pids[1] == b, "stopped: %d %d",
	      codes[1], statuses[1]);
	CHECK_OK(kill(b, SIGCONT));
	wait_chld(3);
	CHECK(codes[2] == CLD_CONTINUED && statuses[2] == SIGCONT, "continued: %d %d", codes[2],
	      statuses[2]);
	CHECK_OK(kill(b, SIGTERM));
	wait_chld(4);
	CHECK(codes[3] == CLD_KILLED && statuses[3] == SIGTERM, "killed: %d %d", codes[3],
	      statuses[3]);
	expect_killed(b, SIGTERM);
	close(p[1]);
	unblock(SIGCHLD);
	ok("SIGCHLD siginfo: CLD_EXITED, CLD_STOPPED, CLD_CONTINUED, CLD_KILLED with status and pid");
}

static void test_nocldstop(void)
{
	set_handler(SIGCHLD, (void *)on_chld, SA_SIGINFO | SA_NOCLDSTOP);
	block(SIGCHLD);
	nchld = 0;
	int p[2];
	CHECK_OK(pipe(p));
	pid_t b = sc_fork();
	if (b == 0) {
		char c;
		close(p[1]);
		(void)!read(p[0], &c, 1);
		_exit(4);
	}
	close(p[0]);
	CHECK_OK(kill(b, SIGSTOP));
	int st;
	CHECK(waitpid(b, &st, WUNTRACED) == b && WIFSTOPPED(st), "stopped");
	CHECK_OK(kill(b, SIGCONT));
	CHECK(waitpid(b, &st, WCONTINUED) == b && WIFCONTINUED(st), "continued");
	close(p[1]);
	wait_chld(1);
	CHECK(nchld == 1 && codes[0] == CLD_EXITED && statuses[0] == 4,
	      "SA_NOCLDSTOP: only the exit (%d signals, first code %d)", nchld, codes[0]);
	expect_exit(b, 4);
	unblock(SIGCHLD);
	ok("SA_NOCLDSTOP: no SIGCHLD for stop or continue, only for the exit");
}

static void test_autoreap(void)
{
	/* SIG_IGN: children are reaped at exit; wait blocks until all are gone, then ECHILD. */
	set_disposition(SIGCHLD, SIG_IGN);
	pid_t a = sc_fork();
	if (a == 0)
		_exit(1);
	pid_t b = sc_fork();
	if (b == 0) {
		msleep(30);
		_exit(2);
	}
	int st;
	CHECK(waitpid(-1, &st, 0) == -1 && errno == ECHILD, "SIG_IGN: wait ends with ECHILD");
	CHECK(kill(a, 0) == -1 && kill(b, 0) == -1 && errno == ESRCH, "no zombies left");
	set_disposition(SIGCHLD, SIG_DFL);
	ok("SIGCHLD set to SIG_IGN: children are reaped automatically, wait gives ECHILD");

	/* SA_NOCLDWAIT with a handler: auto-reaped, yet the handler still runs. */
	set_handler(SIGCHLD, (void *)on_chld, SA_SIGINFO | SA_NOCLDWAIT);
	block(SIGCHLD);
	nchld = 0;
	a = sc_fork();
	if (a == 0)
		_exit(3);
	wait_chld(1);
	CHECK(codes[0] == CLD_EXITED && statuses[0] == 3 && pids[0] == a, "handler info");
	CHECK(waitpid(-1, &st, 0) == -1 && errno == ECHILD, "SA_NOCLDWAIT: nothing to wait for");
	CHECK(kill(a, 0) == -1 && errno == ESRCH, "no zombie");
	unblock(SIGCHLD);
	set_disposition(SIGCHLD, SIG_DFL);

	/* Default SIG_DFL: a zombie remains until waited for. */
	a = sc_fork();
	if (a == 0)
		_exit(0);
	siginfo_t si;
	CHECK_OK(waitid(P_PID, a, &si, WEXITED | WNOWAIT));
	CHECK(kill(a, 0) == 0, "SIG_DFL: zombie kept");
	expect_exit(a, 0);
	ok("SA_NOCLDWAIT: auto-reaped, the handler still runs; SIG_DFL keeps zombies");
}

int main(void)
{
	test_infos();
	test_nocldstop();
	test_autoreap();
	return 0;
}
