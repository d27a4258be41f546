/* Starting the Sentry's own helper threads, a short time slice, and the count of a thread's
 * waits on another process. */
#ifndef COMMON_THREAD_H
#define COMMON_THREAD_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

/* Start fn(arg) on a detached thread with a stack of stack bytes (0: the default). With
 * no_signals the thread starts with every host signal blocked (it never takes one, the kick
 * signals included). *th (may be NULL) gets the thread. Returns 0 or -errno. */
int thread_start_detached(pthread_t *th, void *(*fn)(void *), void *arg, size_t stack,
			  bool no_signals);

/* Ask the host scheduler for a time slice of ns for the calling thread (SCHED_OTHER, its nice
 * value kept): a thread that runs a few microseconds per wake-up (the gofer) then takes the
 * CPU from one that has run for longer as soon as it wakes, instead of waiting up to a whole
 * default slice (Linux 6.12's sched_attr.sched_runtime for fair tasks; older kernels ignore
 * it). Best effort: returns 0 or -errno, and changes nothing on failure. */
int thread_short_slice(unsigned long ns);

/* How many times the calling thread waited on another process for an answer (a gofer round
 * trip): a platform tells by it an answer to the application that was slow because it waited
 * from one that was slow work (systrap's solo rule, platform/systrap/run.c). */
extern __thread unsigned thread_waits;
static inline void thread_waited(void) { thread_waits++; }

#endif
