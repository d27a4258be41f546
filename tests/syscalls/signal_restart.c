/* signal_restart.c: a call restarted through restart_syscall (nanosleep, ERESTART_RESTARTBLOCK)
 * when the process is stopped and continued, so no handler ran: it sleeps its whole time.
 * eintr.c covers EINTR and SA_RESTART. */
#include "sc.h"

static void test_nanosleep_after_stop(void)
{
	int st;
	pid_t c = sc_fork();

	if (c == 0) {
		struct timespec ts = { 0, 150 * 1000000L };
		long t0 = now_ms();
		errno = 0;
		int r = nanosleep(&ts, NULL);
		CHECK(r == 0, "nanosleep across stop/continue: %d (%s)", r, errname(errno));
		CHECK(now_ms() - t0 >= 140, "slept the whole time");
		_exit(0);
	}
	msleep(40);
	CHECK_OK(kill(c, SIGSTOP));
	CHECK(waitpid(c, &st, WUNTRACED) == c && WIFSTOPPED(st), "stopped");
	CHECK_OK(kill(c, SIGCONT));
	expect_exit(c, 0);
	ok("nanosleep: completes after a stop/continue (restart_syscall)");
}

int main(void)
{
	test_nanosleep_after_stop();
	return 0;
}
