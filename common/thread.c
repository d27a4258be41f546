/* Starting the Sentry's own helper threads, and a short time slice (thread.h). */
#define _GNU_SOURCE
#include "common/thread.h"

#include <errno.h>
#include <stdint.h>
#include <sched.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

__thread unsigned thread_waits;

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

int thread_short_slice(unsigned long ns)
{
	/* sched_setattr(2)'s struct, its first version (glibc 2.36 has no declaration, and
	 * <linux/sched/types.h> clashes with <sched.h>) */
	struct {
		uint32_t size, sched_policy;
		uint64_t sched_flags;
		int32_t sched_nice;
		uint32_t sched_priority;
		uint64_t sched_runtime, sched_deadline, sched_period;
	} attr = {.size = sizeof(attr), .sched_policy = SCHED_OTHER};

	errno = 0;
	int nice = getpriority(PRIO_PROCESS, 0); /* (of the calling thread) */
	if (nice == -1 && errno)
		return -errno;
	attr.sched_nice = nice;
	attr.sched_runtime = ns;
	return syscall(SYS_sched_setattr, 0, &attr, 0) < 0 ? -errno : 0;
}
