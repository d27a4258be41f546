/* vdso_calls.c: 1000 each of clock_gettime(CLOCK_MONOTONIC), clock_gettime(CLOCK_REALTIME),
 * gettimeofday and time, then one clock_gettime(CLOCK_PROCESS_CPUTIME_ID), after sleeping
 * 100 ms (the Sentry calibrates the vDSO's clock in its first 10 ms). tests/security/run.sh
 * counts which of them trap under --strace: with a vDSO only the last. */
#include "check.h"

#include <sys/time.h>
#include <time.h>

int main(void)
{
	struct timespec ts = {0, 100000000}, a, b;
	struct timeval tv;

	CHECK_OK(nanosleep(&ts, NULL));
	CHECK_OK(clock_gettime(CLOCK_MONOTONIC, &a));
	for (int i = 0; i < 1000; i++) {
		CHECK_OK(clock_gettime(CLOCK_MONOTONIC, &b));
		CHECK_OK(clock_gettime(CLOCK_REALTIME, &ts));
		CHECK_OK(gettimeofday(&tv, NULL));
		CHECK(time(NULL) > 0, "time");
	}
	CHECK(b.tv_sec > a.tv_sec || (b.tv_sec == a.tv_sec && b.tv_nsec >= a.tv_nsec),
	      "CLOCK_MONOTONIC went back");
	CHECK_OK(clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts));
	printf("ok 4000 time calls and a CPU-time one\n");
	return 0;
}
