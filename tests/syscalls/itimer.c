/* itimer.c: alarm, setitimer/getitimer (ITIMER_REAL, periodic, VIRTUAL, PROF), fork semantics. */
#include "sc.h"

#include <sys/time.h>

static volatile int alrm, vtalrm, prof;
static void on_alrm(int sig)
{
	alrm++;
}
static void on_vt(int sig)
{
	vtalrm++;
}
static void on_prof(int sig)
{
	prof++;
}

static long tv_ms(struct timeval tv)
{
	return tv.tv_sec * 1000L + tv.tv_usec / 1000;
}

static void test_alarm(void)
{
	struct itimerval cur;

	CHECK(alarm(0) == 0, "no alarm at start");
	CHECK(alarm(50) == 0, "first alarm returns 0");
	CHECK(alarm(30) == 50, "alarm returns the seconds left of the previous one");
	CHECK_OK(getitimer(ITIMER_REAL, &cur));
	CHECK(cur.it_value.tv_sec >= 28 && cur.it_value.tv_sec <= 30 && tv_ms(cur.it_interval) == 0,
	      "alarm and ITIMER_REAL are the same timer: %lds", (long)cur.it_value.tv_sec);
	pid_t pid = sc_fork();
	if (pid == 0)
		_exit(alarm(0) == 0 ? 0 : 1);
	expect_exit(pid, 0);
	CHECK(alarm(0) == 30, "alarm(0) cancels and returns the time left");
	CHECK_OK(getitimer(ITIMER_REAL, &cur));
	CHECK(tv_ms(cur.it_value) == 0, "cancelled");

	/* Default action of SIGALRM: terminate. */
	pid = sc_fork();
	if (pid == 0) {
		struct itimerval it = { .it_value = { 0, 10000 } };
		setitimer(ITIMER_REAL, &it, NULL);
		for (;;)
			pause();
	}
	expect_killed(pid, SIGALRM);
	ok("alarm: previous time left, shares ITIMER_REAL, not inherited by fork, kills by default");
}

static void test_real(void)
{
	struct itimerval it = { .it_value = { 0, 50000 } }, old, cur;
	sigset_t m;

	set_handler(SIGALRM, (void *)on_alrm, 0);
	block(SIGALRM);
	sigprocmask(SIG_SETMASK, NULL, &m);
	sigdelset(&m, SIGALRM);

	CHECK_OK(setitimer(ITIMER_REAL, &it, &old));
	CHECK(tv_ms(old.it_value) == 0, "no previous timer");
	CHECK_OK(getitimer(ITIMER_REAL, &cur));
	CHECK(tv_ms(cur.it_value) > 0 && tv_ms(cur.it_value) <= 50, "getitimer: %ld ms left",
	      tv_ms(cur.it_value));
	long t0 = now_ms();
	alrm = 0;
	while (!alrm)
		sigsuspend(&m);
	long el = now_ms() - t0;
	CHECK(el >= 40 && el < 5000, "fired after about 50 ms: %ld", el);
	CHECK_OK(getitimer(ITIMER_REAL, &cur));
	CHECK(tv_ms(cur.it_value) == 0, "one-shot: disarmed after firing");

	/* Periodic: 10 ms interval, three expirations. */
	struct itimerval per = { .it_value = { 0, 10000 }, .it_interval = { 0, 10000 } };
	CHECK_OK(setitimer(ITIMER_REAL, &per, NULL));
	alrm = 0;
	while (alrm < 3)
		sigsuspend(&m);
	CHECK_OK(getitimer(ITIMER_REAL, &cur));
	CHECK(tv_ms(cur.it_interval) == 10, "interval read back: %ld", tv_ms(cur.it_interval));
	struct itimerval off = { 0 };
	CHECK_OK(setitimer(ITIMER_REAL, &off, &old));
	CHECK(tv_ms(old.it_interval) == 10, "old value returned when disarming");
	unblock(SIGALRM);

	struct itimerval bad = { .it_value = { 0, 1000000 } };
	CHECK_ERR(setitimer(ITIMER_REAL, &bad, NULL), EINVAL);
	CHECK_ERR(setitimer(7, &it, NULL), EINVAL);
	CHECK_ERR(getitimer(7, &cur), EINVAL);
	ok("ITIMER_REAL: one-shot and periodic SIGALRM, getitimer time left, EINVAL");
}

static void test_cpu_timers(void)
{
	/* Both count CPU time: spin (in user mode) until they fire, for at most 5 s. */
	struct itimerval it = { .it_value = { 0, 20000 } }, cur;

	set_handler(SIGVTALRM, (void *)on_vt, 0);
	set_handler(SIGPROF, (void *)on_prof, 0);
	vtalrm = prof = 0;
	CHECK_OK(setitimer(ITIMER_VIRTUAL, &it, NULL));
	CHECK_OK(setitimer(ITIMER_PROF, &it, NULL));
	CHECK_OK(getitimer(ITIMER_VIRTUAL, &cur));
	CHECK(tv_ms(cur.it_value) > 0 && tv_ms(cur.it_value) <= 40, "virtual armed: %ld ms",
	      tv_ms(cur.it_value));
	/* Sleeping does not advance them. */
	msleep(40);
	CHECK(vtalrm == 0 && prof == 0, "CPU timers do not run while sleeping");
	long t0 = now_ms();
	volatile unsigned long x = 0;
	while ((!vtalrm || !prof) && now_ms() - t0 < 5000)
		for (int i = 0; i < 100000; i++)
			x += i;
	CHECK(vtalrm == 1, "ITIMER_VIRTUAL fired SIGVTALRM");
	CHECK(prof == 1, "ITIMER_PROF fired SIGPROF");
	ok("ITIMER_VIRTUAL and ITIMER_PROF fire on CPU time, not while sleeping");
}

int main(void)
{
	test_alarm();
	test_real();
	test_cpu_timers();
	return 0;
}
