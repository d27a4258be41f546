/* thread_create: pthread_create(3) of a thread that returns at once, then pthread_join(3)
 * (clone(2) with CLONE_THREAD, a futex wake-up at exit). */
#include "bench.h"
#include <pthread.h>

static void *nothing(void *arg)
{
	return arg;
}

static void op(long iters, void *arg)
{
	for (long i = 0; i < iters; i++) {
		pthread_t t;
		int err = pthread_create(&t, NULL, nothing, NULL);

		if (err != 0) {
			errno = err;
			bench_die("pthread_create");
		}
		err = pthread_join(t, NULL);
		if (err != 0) {
			errno = err;
			bench_die("pthread_join");
		}
	}
}

int main(int argc, char **argv)
{
	bench_init(argc, argv);
	bench_run("thread_create", "", op, NULL);
	return 0;
}
