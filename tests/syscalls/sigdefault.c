/* sigdefault.c: default actions: terminate, core (no dump), ignore, stop/continue seen by waitpid,
 * and SIGTSTP/SIGTTIN/SIGTTOU discarded in an orphaned process group. */
#include "sc.h"

/* Forks a child that raises sig and then exits 0 if it survives. */
static int raise_in_child(int sig)
{
	pid_t pid = sc_fork();

	if (pid == 0) {
		no_core();
		raise(sig);
		_exit(0);
	}
	return sc_wait(pid);
}

static void test_terminate_and_core(void)
{
	static const int term[] = { SIGHUP, SIGINT, SIGKILL, SIGUSR1, SIGUSR2, SIGPIPE, SIGALRM,
				    SIGTERM, SIGSTKFLT, SIGVTALRM, SIGPROF, SIGIO, SIGPWR };
	static const int core[] = { SIGQUIT, SIGILL, SIGTRAP, SIGABRT, SIGBUS, SIGFPE, SIGSEGV,
				    SIGXCPU, SIGXFSZ, SIGSYS };

	for (size_t i = 0; i < sizeof(term) / sizeof(term[0]); i++) {
		int st = raise_in_child(term[i]);
		CHECK(WIFSIGNALED(st) && WTERMSIG(st) == term[i] && !WCOREDUMP(st),
		      "%s: status %#x", sigabbrev_np(term[i]), st);
	}
	int rt = raise_in_child(SIGRTMIN + 5);
	CHECK(WIFSIGNALED(rt) && WTERMSIG(rt) == SIGRTMIN + 5, "a real-time signal terminates");
	ok("terminate-by-default signals, real-time included");
	for (size_t i = 0; i < sizeof(core) / sizeof(core[0]); i++) {
		int st = raise_in_child(core[i]);
		CHECK(WIFSIGNALED(st) && WTERMSIG(st) == core[i] && !WCOREDUMP(st),
		      "%s: status %#x", sigabbrev_np(core[i]), st);
	}
	ok("core-by-default signals terminate; no core flag when no core was written");
}

static void test_ignore(void)
{
	static const int ign[] = { SIGCHLD, SIGURG, SIGWINCH, SIGCONT };

	for (size_t i = 0; i < sizeof(ign) / sizeof(ign[0]); i++) {
		int st = raise_in_child(ign[i]);
		CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "%s: status %#x",
		      sigabbrev_np(ign[i]), st);
	}
	ok("SIGCHLD, SIGURG, SIGWINCH, SIGCONT are ignored by default");
}

/*
 * Job-control stops. Runs in a new session: we lead group S; each child gets its own group,
 * whose parent (us) is in another group of the same session, so the group is not orphaned.
 */
static void job_control(void)
{
	CHECK(setsid() == getpid(), "setsid");
	static const int stops[] = { SIGSTOP, SIGTSTP, SIGTTIN, SIGTTOU };

	for (size_t i = 0; i < sizeof(stops) / sizeof(stops[0]); i++) {
		int p[2];
		CHECK_OK(pipe(p));
		pid_t pid = sc_fork();
		if (pid == 0) {
			char c;
			setpgid(0, 0);
			close(p[1]);
			raise(stops[i]);
			/* Continued: wait for the parent, then exit 5. */
			(void)!read(p[0], &c, 1);
			_exit(5);
		}
		setpgid(pid, pid);
		close(p[0]);
		int st;
		CHECK(waitpid(pid, &st, WUNTRACED) == pid, "waitpid");
		CHECK(WIFSTOPPED(st) && WSTOPSIG(st) == stops[i], "%s: status %#x",
		      sigabbrev_np(stops[i]), st);
		CHECK_OK(kill(pid, SIGCONT));
		CHECK(waitpid(pid, &st, WCONTINUED) == pid && WIFCONTINUED(st), "continued");
		close(p[1]);
		expect_exit(pid, 5);
	}
	ok("SIGSTOP, SIGTSTP, SIGTTIN, SIGTTOU stop; SIGCONT continues (waitpid sees both)");

	/* A stopped process still gets SIGKILL, and SIGCONT with a handler runs it on resume. */
	pid_t pid = sc_fork();
	if (pid == 0) {
		setpgid(0, 0);
		for (;;)
			pause();
	}
	setpgid(pid, pid);
	int st;
	CHECK_OK(kill(pid, SIGSTOP));
	CHECK(waitpid(pid, &st, WUNTRACED) == pid && WIFSTOPPED(st), "stopped");
	CHECK_OK(kill(pid, SIGTERM)); /* stays pending while stopped */
	msleep(10);
	CHECK(waitpid(pid, &st, WNOHANG) == 0, "a stopped process does not act on SIGTERM");
	CHECK_OK(kill(pid, SIGCONT));
	expect_killed(pid, SIGTERM);
	pid = sc_fork();
	if (pid == 0) {
		setpgid(0, 0);
		for (;;)
			pause();
	}
	setpgid(pid, pid);
	CHECK_OK(kill(pid, SIGSTOP));
	CHECK(waitpid(pid, &st, WUNTRACED) == pid && WIFSTOPPED(st), "stopped");
	CHECK_OK(kill(pid, SIGKILL));
	expect_killed(pid, SIGKILL);
	ok("a stopped process acts on SIGTERM only once continued; SIGKILL ends it at once");

	/* Orphaned group: our own group (its only member's parent is in another session). */
	for (size_t i = 1; i < sizeof(stops) / sizeof(stops[0]); i++) {
		pid = sc_fork();
		if (pid == 0) {
			raise(stops[i]); /* discarded */
			_exit(6);
		}
		CHECK(waitpid(pid, &st, WUNTRACED) == pid, "waitpid");
		CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 6,
		      "%s in an orphaned group must be discarded: status %#x",
		      sigabbrev_np(stops[i]), st);
	}
	ok("SIGTSTP/SIGTTIN/SIGTTOU are discarded in an orphaned process group");
}

static void test_sigcont_discards_stops(void)
{
	/* SIGCONT removes pending stop signals and vice versa. */
	block(SIGTSTP);
	block(SIGCONT);
	raise(SIGTSTP);
	raise(SIGCONT);
	sigset_t pend;
	sigpending(&pend);
	CHECK(!sigismember(&pend, SIGTSTP) && sigismember(&pend, SIGCONT),
	      "SIGCONT discards a pending SIGTSTP");
	raise(SIGTSTP);
	sigpending(&pend);
	CHECK(sigismember(&pend, SIGTSTP) && !sigismember(&pend, SIGCONT),
	      "a stop signal discards a pending SIGCONT");
	set_disposition(SIGTSTP, SIG_IGN);
	unblock(SIGTSTP);
	unblock(SIGCONT);
	set_disposition(SIGTSTP, SIG_DFL);
	ok("SIGCONT and stop signals cancel each other's pending instances");
}

int main(void)
{
	test_terminate_and_core();
	test_ignore();
	in_child(job_control);
	test_sigcont_discards_stops();
	return 0;
}
