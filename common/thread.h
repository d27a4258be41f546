/* Starting the Sentry's own helper threads. */
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

#endif
