/* time_test.c: clock_gettime/getres, gettimeofday, time, nanosleep, clock_nanosleep: correctness, not speed. */
#include "check.h"

#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>

static long long ns(const struct timespec *t)
{
	return t->tv_sec * 1000000000LL + t->tv_nsec;
}

static struct timespec now(clockid_t c)
{
	struct timespec t;

	CHECK_OK(clock_gettime(c, &t));
	CHECK(t.tv_nsec >= 0 && t.tv_nsec < 1000000000, "tv_nsec %ld", t.tv_nsec);
	return t;
}

int main(void)
{
	struct timespec t0, t1, res;

	/* Monotonic never goes back. */
	t0 = now(CLOCK_MONOTONIC);
	for (int i = 0; i < 1000; i++) {
		t1 = now(CLOCK_MONOTONIC);
		CHECK(ns(&t1) >= ns(&t0), "CLOCK_MONOTONIC went back");
		t0 = t1;
	}
	/* The raw syscall agrees with the (possibly vDSO) libc call. */
	struct timespec s;
	CHECK_OK(syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &s));
	t1 = now(CLOCK_MONOTONIC);
	CHECK(ns(&s) >= ns(&t0) && ns(&t1) >= ns(&s), "syscall and libc clocks disagree");
	printf("ok CLOCK_MONOTONIC is monotonic\n");

	/* Realtime is after 2020 and agrees with gettimeofday and time within a few seconds. */
	struct timespec rt = now(CLOCK_REALTIME);
	CHECK(rt.tv_sec > 1577836800, "CLOCK_REALTIME %lld before 2020", (long long)rt.tv_sec);
	struct timeval tv;
	CHECK_OK(gettimeofday(&tv, NULL));
	CHECK(tv.tv_usec >= 0 && tv.tv_usec < 1000000, "tv_usec");
	CHECK(llabs(tv.tv_sec - rt.tv_sec) <= 2, "gettimeofday %lld vs %lld", (long long)tv.tv_sec,
	      (long long)rt.tv_sec);
	time_t tt = time(NULL);
	CHECK(llabs(tt - rt.tv_sec) <= 2, "time() %lld", (long long)tt);
	time_t ts;
	CHECK(syscall(SYS_time, &ts) == ts && llabs(ts - rt.tv_sec) <= 2, "time syscall");
	printf("ok realtime, gettimeofday, time agree\n");

	/* Other clocks. */
	clockid_t clocks[] = { CLOCK_REALTIME, CLOCK_MONOTONIC, CLOCK_MONOTONIC_RAW, CLOCK_BOOTTIME,
			       CLOCK_PROCESS_CPUTIME_ID, CLOCK_THREAD_CPUTIME_ID,
			       CLOCK_REALTIME_COARSE, CLOCK_MONOTONIC_COARSE };
	for (size_t i = 0; i < sizeof(clocks) / sizeof(clocks[0]); i++) {
		now(clocks[i]);
		CHECK_OK(clock_getres(clocks[i], &res));
		CHECK(ns(&res) > 0 && ns(&res) <= 10000000, "clock %d resolution %lld", clocks[i],
		      ns(&res));
	}
	CHECK_OK(clock_getres(CLOCK_MONOTONIC, NULL));
	CHECK_ERR(clock_gettime(1234, &t0), EINVAL);
	CHECK_ERR(clock_getres(1234, &res), EINVAL);
	printf("ok clock_getres and every clock\n");

	/* nanosleep 10 ms takes at least 10 ms of monotonic time. */
	struct timespec req = { 0, 10 * 1000 * 1000 }, rem = { 99, 99 };
	t0 = now(CLOCK_MONOTONIC);
	CHECK_OK(nanosleep(&req, &rem));
	t1 = now(CLOCK_MONOTONIC);
	CHECK(ns(&t1) - ns(&t0) >= 10000000, "nanosleep(10ms) took %lld ns", ns(&t1) - ns(&t0));
	printf("ok nanosleep(10ms) >= 10ms\n");

	/* clock_nanosleep: relative, then absolute. */
	t0 = now(CLOCK_MONOTONIC);
	CHECK(clock_nanosleep(CLOCK_MONOTONIC, 0, &req, NULL) == 0, "clock_nanosleep relative");
	t1 = now(CLOCK_MONOTONIC);
	CHECK(ns(&t1) - ns(&t0) >= 10000000, "clock_nanosleep(10ms) took %lld ns", ns(&t1) - ns(&t0));
	struct timespec until = now(CLOCK_MONOTONIC);
	until.tv_nsec += 20 * 1000 * 1000;
	if (until.tv_nsec >= 1000000000) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000;
	}
	CHECK(clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &until, NULL) == 0, "absolute sleep");
	t1 = now(CLOCK_MONOTONIC);
	CHECK(ns(&t1) >= ns(&until), "woke %lld ns before the deadline", ns(&until) - ns(&t1));
	/* A deadline in the past returns at once. */
	CHECK(clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &t0, NULL) == 0, "past deadline");
	printf("ok clock_nanosleep relative and absolute\n");

	/* Zero sleep; invalid requests. */
	struct timespec zero = { 0, 0 };
	CHECK_OK(nanosleep(&zero, NULL));
	struct timespec bad = { 0, 1000000000 };
	CHECK_ERR(nanosleep(&bad, NULL), EINVAL);
	struct timespec neg = { -1, 0 };
	CHECK_ERR(nanosleep(&neg, NULL), EINVAL);
	CHECK(clock_nanosleep(CLOCK_MONOTONIC, 0, &bad, NULL) == EINVAL, "clock_nanosleep bad nsec");
	CHECK(clock_nanosleep(CLOCK_THREAD_CPUTIME_ID, 0, &req, NULL) == EINVAL,
	      "clock_nanosleep on the thread CPU clock");
	printf("ok invalid sleeps -> EINVAL\n");

	/* CPU time moves when we spin. */
	struct timespec c0 = now(CLOCK_PROCESS_CPUTIME_ID), c1;
	struct timespec give_up = now(CLOCK_MONOTONIC);
	give_up.tv_sec += 5;
	volatile unsigned long x = 0;
	do {
		for (int i = 0; i < 100000; i++)
			x += i;
		c1 = now(CLOCK_PROCESS_CPUTIME_ID);
		t1 = now(CLOCK_MONOTONIC);
	} while (ns(&c1) == ns(&c0) && ns(&t1) < ns(&give_up));
	CHECK(ns(&c1) > ns(&c0), "process CPU time did not advance in 5 s of spinning");
	printf("ok CPU time advances\n");
	printf("time_test: done\n");
	return 0;
}
