/* Starting the Sentry's own helper threads (thread.h). */
#include "common/thread.h"

#include <signal.h>

int thread_start_detached(pthread_t *th, void *(*fn)(void *), void *arg, size_t stack,
			  bool no_signals)
{
	pthread_attr_t attr;
	sigset_t all, old;
	pthread_t unused;
	int r;

	if (no_signals) {
		sigfillset(&all);
		pthread_sigmask(SIG_BLOCK, &all, &old); /* inherited by the new thread */
	}
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	if (stack)
		pthread_attr_setstacksize(&attr, stack);
	r = pthread_create(th ? th : &unused, &attr, fn, arg);
	pthread_attr_destroy(&attr);
	if (no_signals)
		pthread_sigmask(SIG_SETMASK, &old, NULL);
	return -r;
}
